import type { Context } from "hono";
import type { AppEnv } from "../app_env.ts";
import { principalOf } from "../middleware/authenticate.ts";
import { ProblemError, sqlConstraint } from "../middleware/problem.ts";
import { originOf } from "../middleware/request_context.ts";
import { hashPassword, passwordProblem } from "../services/passwords.ts";
import { refreshSession, signIn, signOut } from "../services/sign_in.ts";
import { createUser, userView } from "../services/users.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "./_route.ts";
import { LoginResponse, LogoutBody, RefreshBody, RegisterBody, TokenBody, TokenPair, User } from "./auth_schemas.ts";

const SIGN_IN = "signing in is how a caller gets a token";

const register = declareRoute({
  method: "post",
  path: "/register",
  operationId: "user-register",
  tags: ["auth"],
  summary: "Create a patient account (role patient, with an empty patient profile)",
  access: { kind: "public", reason: "creating an account precedes having one" },
  request: jsonBody(RegisterBody),
  responses: { 201: jsonResponse("The new user", User), ...problems(400, 409, 413, 415, 422) },
});

const token = declareRoute({
  method: "post",
  path: "/token",
  operationId: "token_obtain_pair",
  tags: ["auth"],
  summary: "Sign in with username or email and password",
  access: { kind: "public", reason: SIGN_IN },
  request: jsonBody(TokenBody),
  responses: { 200: jsonResponse("Access and refresh tokens", TokenPair), ...problems(400, 401, 413, 415, 422, 429) },
});

const login = declareRoute({
  method: "post",
  path: "/login",
  operationId: "login",
  tags: ["auth"],
  summary: "Sign in, as /token/, and also return the user",
  access: { kind: "public", reason: SIGN_IN },
  request: jsonBody(TokenBody),
  responses: { 200: jsonResponse("Tokens and the user", LoginResponse), ...problems(400, 401, 413, 415, 422, 429) },
});

const refresh = declareRoute({
  method: "post",
  path: "/token/refresh",
  operationId: "token_refresh",
  tags: ["auth"],
  summary: "Spend a refresh token for a new pair; replaying a spent one revokes the session",
  access: { kind: "public", reason: "the refresh token is the credential" },
  request: jsonBody(RefreshBody),
  responses: { 200: jsonResponse("A new token pair", TokenPair), ...problems(400, 401, 413, 415, 422) },
});

const logout = declareRoute({
  method: "post",
  path: "/logout",
  operationId: "user-logout",
  tags: ["auth"],
  summary: "End the caller's session (and the one a given refresh token belongs to, if the caller's)",
  access: { kind: "signed-in" },
  request: jsonBody(LogoutBody, false),
  responses: { 204: { description: "Signed out" }, ...problems(400, 401, 413, 415, 422) },
});

export function authRoutes() {
  const app = newRouter();

  app.openapi(register, async (c) => {
    const body = c.req.valid("json");
    const problem = passwordProblem(body.password, [body.username, body.email.split("@")[0]]);
    if (problem) throw passwordRefused("/password", problem);
    const { db } = c.get("deps");
    const user = await createUser(db, {
      username: body.username,
      email: body.email,
      passwordHash: await hashPassword(body.password),
      phone: body.phone ?? null,
      roleNames: ["patient"],
      patientProfile: { firstName: body.first_name, lastName: body.last_name, dateOfBirth: body.date_of_birth },
    }).catch(duplicateAccount);
    return c.json(userView(user, ["patient"]), 201);
  });

  app.openapi(token, async (c) => {
    const { access, refresh } = await signInWith(c, c.req.valid("json"));
    return c.json({ access, refresh }, 200);
  });

  app.openapi(login, async (c) => {
    const { access, refresh, user, roles } = await signInWith(c, c.req.valid("json"));
    return c.json({ access, refresh, user: { id: user.id, username: user.username, email: user.email, roles } }, 200);
  });

  app.openapi(refresh, async (c) => {
    const pair = await refreshSession(c.get("deps"), originOf(c), c.req.valid("json").refresh);
    return c.json(pair, 200);
  });

  app.openapi(logout, async (c) => {
    const principal = principalOf(c);
    await signOut(c.get("deps"), originOf(c), principal, c.req.valid("json").refresh);
    return c.body(null, 204);
  });

  return app;
}

function signInWith(c: Context<AppEnv>, body: { username?: string; email?: string; password: string }) {
  return signIn(c.get("deps"), originOf(c), body.username ?? body.email ?? "", body.password);
}

export function passwordRefused(pointer: string, detail: string): ProblemError {
  return new ProblemError(422, "validation", "The password does not meet the policy", {
    errors: [{ pointer, detail }],
  });
}

/** A taken username or e-mail is a 409 (contract), not a generic constraint error. */
export function duplicateAccount(e: unknown): never {
  const constraint = sqlConstraint(e);
  if (constraint === "users_username_lower_key" || constraint === "users_email_lower_key") {
    const field = constraint.includes("email") ? "email" : "username";
    throw new ProblemError(409, "duplicate-account", `An account with this ${field} already exists`, {
      errors: [{ pointer: `/${field}`, detail: "Already taken" }],
    });
  }
  throw e;
}
