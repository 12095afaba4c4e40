import { contextOf } from "../../middleware/service_context.ts";
import { registerPatient } from "../../services/accounts.ts";
import { requestPasswordReset, resetPassword } from "../../services/password_reset.ts";
import { refreshSession, signIn, signOut } from "../../services/sign_in.ts";
import { newRouter } from "../_route.ts";
import { userView } from "../_views.ts";
import { forgot, login, logout, refresh, register, reset, token } from "./declarations.ts";
import { resetFormRoutes } from "./reset_form.ts";

/** The same words whether or not the account exists (no user enumeration, ASVS 2.5.1). */
export const FORGOT_RESPONSE = {
  detail: "If an account with that email exists, a password reset link has been sent to it.",
};

export function authRoutes() {
  const app = newRouter();

  app.openapi(register, async (c) => {
    const body = c.req.valid("json");
    const user = await registerPatient(contextOf(c), {
      ...body,
      firstName: body.first_name,
      lastName: body.last_name,
      dateOfBirth: body.date_of_birth,
    });
    return c.json(userView(user), 201);
  });

  app.openapi(token, async (c) => {
    const body = c.req.valid("json");
    const { access, refresh } = await signIn(contextOf(c), body.username ?? body.email ?? "", body.password);
    return c.json({ access, refresh }, 200);
  });

  app.openapi(login, async (c) => {
    const body = c.req.valid("json");
    const { access, refresh, user, roles } = await signIn(
      contextOf(c),
      body.username ?? body.email ?? "",
      body.password,
    );
    return c.json({ access, refresh, user: { id: user.id, username: user.username, email: user.email, roles } }, 200);
  });

  app.openapi(refresh, async (c) => c.json(await refreshSession(contextOf(c), c.req.valid("json").refresh), 200));

  app.openapi(logout, async (c) => {
    await signOut(contextOf(c), c.req.valid("json")?.refresh);
    return c.body(null, 204);
  });

  app.openapi(forgot, async (c) => {
    await requestPasswordReset(contextOf(c), c.req.valid("json").email);
    return c.json(FORGOT_RESPONSE, 202);
  });

  app.openapi(reset, async (c) => {
    const body = c.req.valid("json");
    await resetPassword(contextOf(c), body.token, body.new_password);
    return c.body(null, 204);
  });

  app.route("/", resetFormRoutes());

  return app;
}
