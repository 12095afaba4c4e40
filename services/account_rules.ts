/**
 * What a change to an account may do, by who asks: pure, so it is tested table by table.
 * Everyone edits their own contact fields; only an administrator (holding `users:write:any`)
 * changes a username or a status; nobody changes their own status; a new password or e-mail comes
 * with the current password on your own account.
 */
import { Conflict, invalid } from "../errors.ts";

export interface AccountChange {
  username?: string;
  email?: string;
  phone?: string | null;
  account_status?: "active" | "suspended" | "deactivated";
  password?: string;
  current_password?: string;
}

export interface AccountPlan {
  changes: { username?: string; email?: string; phone?: string | null; accountStatus?: string };
  passwordChange: boolean;
  /** The e-mail address changes (its old address is told). */
  emailChange: boolean;
  /** The username and e-mail after the change (a new password must not contain them). */
  username: string;
  email: string;
}

export function planAccountChange(
  current: { username: string; email: string; accountStatus: string },
  change: AccountChange,
  caller: { self: boolean; admin: boolean; deleting?: boolean },
): AccountPlan {
  if (caller.deleting && caller.self) throw new Conflict("conflict", "You cannot deactivate your own account");
  if (!caller.admin) {
    for (const field of ["username", "account_status"] as const) {
      if (change[field] !== undefined) throw invalid(`/${field}`, "Only an administrator may change this");
    }
  }
  if (caller.self && change.account_status !== undefined && change.account_status !== current.accountStatus) {
    throw invalid("/account_status", "You cannot change the status of your own account");
  }
  const emailChange = change.email !== undefined && change.email.toLowerCase() !== current.email.toLowerCase();
  if (change.current_password !== undefined && change.password === undefined && change.email === undefined) {
    throw invalid("/current_password", "Send it only with a new password or e-mail");
  }
  // A stolen access token must not be enough to take the account over (ASVS 2.5.x, 3.7.1).
  if ((change.password !== undefined || emailChange) && caller.self && change.current_password === undefined) {
    throw invalid("/current_password", "Your current password is required to change your password or e-mail");
  }
  const changes: AccountPlan["changes"] = {};
  if (change.username !== undefined) changes.username = change.username;
  if (change.email !== undefined) changes.email = change.email;
  if (change.phone !== undefined) changes.phone = change.phone;
  if (change.account_status !== undefined) changes.accountStatus = change.account_status;
  return {
    changes,
    passwordChange: change.password !== undefined,
    emailChange,
    username: change.username ?? current.username,
    email: change.email ?? current.email,
  };
}
