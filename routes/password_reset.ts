import { originOf } from "../middleware/request_context.ts";
import { passwordProblem } from "../services/passwords.ts";
import { requestPasswordReset, resetPassword } from "../services/password_reset.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "./_route.ts";
import { ForgotBody, ResetBody } from "./auth_schemas.ts";
import { passwordRefused } from "./auth.ts";
import { z } from "@hono/zod-openapi";

/** The same words whether or not the account exists (no user enumeration, ASVS 2.5.1). */
export const FORGOT_RESPONSE = {
  detail: "If an account with that email exists, a password reset link has been sent to it.",
};

const forgot = declareRoute({
  method: "post",
  path: "/forgot-password",
  operationId: "forgot-password",
  tags: ["auth"],
  summary: "Send a single-use reset link (the same answer for known and unknown e-mails)",
  access: { kind: "public", reason: "a user who forgot their password cannot sign in" },
  request: jsonBody(ForgotBody),
  responses: {
    202: jsonResponse("Accepted", z.object({ detail: z.string() })),
    ...problems(400, 413, 415, 422, 429),
  },
});

const reset = declareRoute({
  method: "post",
  path: "/reset-password",
  operationId: "reset-password",
  tags: ["auth"],
  summary: "Set a new password with a reset token; every session of the user ends",
  access: { kind: "public", reason: "the reset token is the credential" },
  request: jsonBody(ResetBody),
  responses: { 204: { description: "Password changed" }, ...problems(400, 413, 415, 422) },
});

export function passwordResetRoutes() {
  const app = newRouter();

  app.openapi(forgot, async (c) => {
    await requestPasswordReset(c.get("deps"), originOf(c), c.req.valid("json").email);
    return c.json(FORGOT_RESPONSE, 202);
  });

  app.openapi(reset, async (c) => {
    const body = c.req.valid("json");
    const problem = passwordProblem(body.new_password);
    if (problem) throw passwordRefused("/new_password", problem);
    await resetPassword(c.get("deps"), originOf(c), body.token, body.new_password);
    return c.body(null, 204);
  });

  return app;
}
