import { z } from "@hono/zod-openapi";
import { PASSWORD_MAX_LENGTH } from "../../services/passwords.ts";
import { calendarDate, email, phone, username } from "../_schemas.ts";

// Password bodies are bounded generously here; the policy (8–128, not common) answers separately
// with its own message so a too-short password is reported as such, not as a type error.
const password = z.string().min(1).max(PASSWORD_MAX_LENGTH * 4);

const name = z.string().max(100);

export const RegisterBody = z.strictObject({
  username,
  email,
  password,
  first_name: name.optional(),
  last_name: name.optional(),
  date_of_birth: calendarDate.optional(),
  phone: phone.optional(),
}).openapi("RegisterRequest");

export const TokenBody = z.strictObject({
  username: z.string().min(1).max(254).optional(),
  email: z.string().min(1).max(254).optional(),
  password,
}).refine((b) => b.username !== undefined || b.email !== undefined, {
  message: "Send username or email",
  path: ["username"],
}).openapi("TokenRequest");

export const TokenPair = z.object({ access: z.string(), refresh: z.string() }).openapi("TokenPair");

export const RefreshBody = z.strictObject({ refresh: z.string().min(1).max(200) }).openapi("RefreshRequest");

export const LogoutBody = z.strictObject({ refresh: z.string().min(1).max(200).optional() }).openapi("LogoutRequest");

export const ForgotBody = z.strictObject({ email }).openapi("ForgotPasswordRequest");

export const ResetBody = z.strictObject({
  token: z.string().min(1).max(200),
  new_password: password,
}).openapi("ResetPasswordRequest");

export const LoginResponse = TokenPair.extend({
  user: z.object({ id: z.number().int(), username: z.string(), email: z.string(), roles: z.array(z.string()) }),
}).openapi("LoginResponse");
