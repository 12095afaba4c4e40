/**
 * Sign-in routes: who may call them (anyone: they are how a caller gets a token). Each leaves one
 * audit record: the service records what it decides (a sign-in, a wrong password, a reuse), and a
 * request refused before it (a body the validator refused, a throttle) is recorded by the route's
 * `audit` as a denied attempt of that action.
 */
import { z } from "@hono/zod-openapi";
import { declareRoute, jsonBody, jsonResponse, problems } from "../_route.ts";
import {
  ForgotBody,
  LoginResponse,
  LogoutBody,
  RefreshBody,
  RegisterBody,
  ResetBody,
  TokenBody,
  TokenPair,
} from "./schemas.ts";
import { User } from "../_schemas.ts";

const SIGN_IN = "signing in is how a caller gets a token";
const tags = ["auth"];

export const register = declareRoute({
  method: "post",
  path: "/register",
  operationId: "user-register",
  tags,
  summary: "Create a patient account (role patient, with an empty patient profile)",
  access: { kind: "public", reason: "creating an account precedes having one" },
  audit: { action: "create", table: "users" },
  request: jsonBody(RegisterBody),
  responses: { 201: jsonResponse("The new user", User), ...problems(400, 409, 413, 415, 422) },
});

export const token = declareRoute({
  method: "post",
  path: "/token",
  operationId: "token_obtain_pair",
  tags,
  summary: "Sign in with username or email and password",
  access: { kind: "public", reason: SIGN_IN },
  audit: { action: "login_failed", table: "users" },
  request: jsonBody(TokenBody),
  responses: { 200: jsonResponse("Access and refresh tokens", TokenPair), ...problems(400, 401, 413, 415, 422, 429) },
});

export const login = declareRoute({
  method: "post",
  path: "/login",
  operationId: "login",
  tags,
  summary: "Sign in, as /token/, and also return the user",
  access: { kind: "public", reason: SIGN_IN },
  audit: { action: "login_failed", table: "users" },
  request: jsonBody(TokenBody),
  responses: { 200: jsonResponse("Tokens and the user", LoginResponse), ...problems(400, 401, 413, 415, 422, 429) },
});

export const refresh = declareRoute({
  method: "post",
  path: "/token/refresh",
  operationId: "token_refresh",
  tags,
  summary: "Spend a refresh token for a new pair; replaying a spent one revokes the session",
  access: { kind: "public", reason: "the refresh token is the credential" },
  audit: { action: "token_refresh", table: "sessions" },
  request: jsonBody(RefreshBody),
  responses: { 200: jsonResponse("A new token pair", TokenPair), ...problems(400, 401, 413, 415, 422) },
});

export const logout = declareRoute({
  method: "post",
  path: "/logout",
  operationId: "user-logout",
  tags,
  summary: "End the caller's session (and the one a given refresh token belongs to, if the caller's)",
  access: { kind: "signed-in" },
  audit: { action: "logout", table: "sessions" },
  request: jsonBody(LogoutBody, false),
  responses: { 204: { description: "Signed out" }, ...problems(400, 401, 413, 415, 422) },
});

export const forgot = declareRoute({
  method: "post",
  path: "/forgot-password",
  operationId: "forgot-password",
  tags,
  summary: "Send a single-use reset link (the same answer for known and unknown e-mails)",
  access: { kind: "public", reason: "a user who forgot their password cannot sign in" },
  audit: { action: "password_reset", table: "users" },
  request: jsonBody(ForgotBody),
  responses: { 202: jsonResponse("Accepted", z.object({ detail: z.string() })), ...problems(400, 413, 415, 422, 429) },
});

export const reset = declareRoute({
  method: "post",
  path: "/reset-password",
  operationId: "reset-password",
  tags,
  summary: "Set a new password with a reset token; every session of the user ends",
  access: { kind: "public", reason: "the reset token is the credential" },
  audit: { action: "password_reset", table: "users" },
  request: jsonBody(ResetBody),
  responses: { 204: { description: "Password changed" }, ...problems(400, 413, 415, 422) },
});
