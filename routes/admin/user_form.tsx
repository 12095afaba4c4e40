/**
 * Creating a user in one form: the account, a role, and for a doctor the profile and weekly hours.
 * Each part goes through the API's own service and is recorded as the API records it (create
 * users, create user_roles, create doctor_profiles); everything is validated before the first
 * write, and each part needs the permission its API route needs.
 */
import { z } from "@hono/zod-openapi";
import type { Hono } from "hono";
import { Forbidden, Invalid, invalid } from "../../errors.ts";
import type { AppEnv } from "../../middleware/env.ts";
import { createUser } from "../../services/accounts.ts";
import { createDoctor } from "../../services/doctors.ts";
import { assignRole, listRoles } from "../../services/roles.ts";
import { email, username } from "../_schemas.ts";
import { WorkingHours } from "../_working_hours.ts";
import { USERROLES_WRITE, USERS_ADMIN } from "./access.ts";
import { CsrfField, Layout } from "./layout.tsx";
import { declarePage, holds, mayOpen, positiveInt, sessionOf, stepContext, text } from "./page.ts";

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const Account = z.object({ username, email, password: z.string().min(1).max(1024) });

export function userFormPages(app: Hono<AppEnv>) {
  declarePage(app, {
    method: "get",
    path: "/admin/users/new",
    access: USERS_ADMIN,
  }, async (c) => {
    const { principal, csrf } = sessionOf(c);
    const roles = mayOpen(principal, USERROLES_WRITE)
      ? (await listRoles(stepContext(c), { ordering: "id", pageSize: 200 })).rows
      : [];
    return c.html(
      <Layout title="Create a user" principal={principal} csrf={csrf}>
        <form method="post" action="/admin/users" id="create-user">
          <CsrfField token={csrf} />
          <fieldset>
            <legend>Account</legend>
            <div class="grid">
              <label>
                Username <input name="username" required maxlength={150} />
              </label>
              <label>
                E-mail <input name="email" type="email" required maxlength={254} />
              </label>
              <label>
                Password <input name="password" type="password" required autocomplete="new-password" />
              </label>
              <label>
                Role
                <select name="role">
                  <option value="">none</option>
                  {roles.map((r) => <option value={String(r.id)}>{r.roleName}</option>)}
                </select>
              </label>
            </div>
          </fieldset>
          <fieldset>
            <legend>Doctor profile (when the role is doctor)</legend>
            <div class="grid">
              <label>
                First name <input name="first_name" maxlength={100} />
              </label>
              <label>
                Last name <input name="last_name" maxlength={100} />
              </label>
              <label>
                Specialization <input name="specialization" maxlength={100} />
              </label>
              <label>
                Time zone <input name="time_zone" value="UTC" maxlength={64} />
              </label>
              <label>
                Fee (minor units) <input name="consultation_fee" inputmode="numeric" value="0" />
              </label>
            </div>
            <p class="muted">Weekly hours: per day, intervals like 09:00-12:00, 13:00-17:00 (empty: not working).</p>
            <div class="grid">
              {DAYS.map((d) => (
                <label>
                  {d} <input name={`hours_${d}`} placeholder="09:00-17:00" maxlength={100} />
                </label>
              ))}
            </div>
          </fieldset>
          <button type="submit">Create</button>
        </form>
      </Layout>,
    );
  });

  declarePage(app, {
    method: "post",
    path: "/admin/users",
    access: USERS_ADMIN,
    audit: { action: "create", table: "users" },
    mirrors: "POST /users",
  }, async (c) => {
    const { principal } = sessionOf(c);
    const form = await c.req.parseBody();
    const account = Account.safeParse(form);
    if (!account.success) {
      throw new Invalid(
        account.error.issues.map((i) => ({
          pointer: `/${i.path.join("/")}`,
          detail: `${i.path.join(".")}: ${i.message}`,
        })),
      );
    }
    const roleId = positiveInt(form.role);
    const roles = roleId ? (await listRoles(stepContext(c), { ordering: "id", pageSize: 200 })).rows : [];
    const role = roles.find((r) => r.id === roleId);
    if (roleId && !role) throw invalid("/role", "No such role");
    const doctor = role?.roleName === "doctor" ? doctorValues(form) : undefined;
    // Each part needs what its API route needs; refused before anything is written.
    if (role && !mayOpen(principal, USERROLES_WRITE)) throw forbidden("userroles:write");
    if (doctor && !holds(principal, "doctors:write:any")) throw forbidden("doctors:write:any");
    const user = await createUser(stepContext(c), account.data);
    if (role) {
      await assignRole(stepContext(c, { action: "create", table: "user_roles" }), { user: user.id, role: role.id });
    }
    if (doctor) await createDoctor(stepContext(c, { action: "create", table: "doctor_profiles" }), user.id, doctor);
    return c.redirect(`/admin/users/${user.id}?notice=Created`, 303);
  });
}

/** The doctor part of the form, validated with the API's schema of weekly hours. */
export function doctorValues(form: Record<string, unknown>) {
  const hours: Record<string, { start: string; end: string }[]> = {};
  for (const day of DAYS) {
    const raw = text(form[`hours_${day}`], 100);
    if (!raw) continue;
    hours[day] = raw.split(",").map((part) => {
      const [start = "", end = ""] = part.trim().split("-").map((s) => s.trim());
      return { start, end };
    });
  }
  const parsed = WorkingHours.safeParse(hours);
  if (!parsed.success) {
    throw new Invalid(parsed.error.issues.map((i) => ({
      pointer: `/working_hours/${i.path.join("/")}`,
      detail: `Hours on ${String(i.path[0])}: ${i.message}`,
    })));
  }
  const zone = text(form.time_zone, 64) ?? "UTC";
  if (!isTimeZone(zone)) throw invalid("/time_zone", "Not an IANA time zone, such as Europe/Paris");
  const fee = text(form.consultation_fee, 15) ?? "0";
  if (!/^[0-9]{1,12}$/.test(fee)) throw invalid("/consultation_fee", "A whole number of minor units");
  return {
    firstName: text(form.first_name, 100) ?? "",
    lastName: text(form.last_name, 100) ?? "",
    specialization: text(form.specialization, 100) ?? "",
    timeZone: zone,
    consultationFee: Number(fee),
    workingHours: parsed.data,
  };
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return !/^[+-]/.test(zone);
  } catch {
    return false;
  }
}

function forbidden(permission: string) {
  return new Forbidden(`Creating this needs the permission ${permission}`);
}
