import { z } from "@hono/zod-openapi";
import { PASSWORD_MAX_LENGTH } from "../../services/passwords.ts";
import { pageQuery } from "../_list.ts";
import { email, phone, username } from "../_schemas.ts";

const STATUSES = ["active", "suspended", "deactivated"] as const;
const accountStatus = z.enum(STATUSES);
const password = z.string().min(1).max(PASSWORD_MAX_LENGTH * 4).openapi({ writeOnly: true });

export const UserCreate = z.strictObject({
  username,
  email,
  password,
  phone: phone.nullable().optional(),
  account_status: accountStatus.optional(),
}).openapi("UserCreate");

/** PUT requires the contact fields; PATCH takes any of these. */
export const UserChange = z.strictObject({
  username: username.optional(),
  email,
  phone: phone.nullable(),
  account_status: accountStatus.optional(),
  password: password.optional(),
  current_password: password.optional().openapi({ description: "Required to change your own password" }),
});

export const ListQuery = z.object({
  ...pageQuery,
  ordering: z.enum(["id", "-id", "username", "-username", "created_at", "-created_at"]).default("id"),
  account_status: accountStatus.optional(),
  role: z.string().max(50).optional().openapi({ description: "Role name" }),
});
