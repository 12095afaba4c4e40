/** Driving the admin console through `app.request()`: its cookies and form tokens, by hand. */
import { rolePermissions, roles } from "../db/schema.ts";
import type { Permission } from "../services/permissions.ts";
import type { Actor, TestApp } from "./_fixtures.ts";

/** The cookie name outside development (tests run with APP_ENV=test). */
export const SESSION_COOKIE = "__Host-portal_console";

export interface ConsoleClient {
  /** The session cookie's value (the session's refresh token). */
  session: string;
  csrf: string;
  get(path: string): Promise<Response>;
  /** A form post; `_csrf` is added unless `withoutCsrf`. */
  post(path: string, form?: Record<string, string>, options?: { withoutCsrf?: boolean }): Promise<Response>;
}

function cookieOf(res: Response, name: string): string | undefined {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair.indexOf("=");
    if (pair.slice(0, eq) === name) return decodeURIComponent(pair.slice(eq + 1));
  }
  return undefined;
}

const ENV = { remoteAddr: { hostname: "192.0.2.7", port: 40000, transport: "tcp" } };

/** A raw console request with the given cookie header. */
export function consoleRequest(api: TestApp, path: string, init: RequestInit = {}): Promise<Response> {
  return Promise.resolve(api.app.request(path, init, ENV));
}

/** Signs in through the console's form; the session cookie and the CSRF token of its pages. */
export async function consoleSignIn(api: TestApp, actor: Actor): Promise<ConsoleClient> {
  const form = await consoleRequest(api, "/admin/login");
  const html = await form.text();
  const token = html.match(/name="_csrf" value="([^"]+)"/)![1];
  const formCookie = cookieOf(form, "portal_console_form")!;
  const res = await consoleRequest(api, "/admin/login", {
    method: "POST",
    headers: { cookie: `portal_console_form=${formCookie}` },
    body: new URLSearchParams({ _csrf: token, login: actor.username, password: actor.password }),
  });
  if (res.status !== 303) throw new Error(`console sign-in failed: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
  return await clientOf(api, cookieOf(res, SESSION_COOKIE)!);
}

/**
 * A console client on an API session (its refresh token as the cookie): for callers the console's
 * sign-in refuses, to show that every page refuses them too (a role that lost `admin:console`).
 */
export async function apiSessionClient(api: TestApp, actor: Actor): Promise<ConsoleClient> {
  return await clientOf(api, (await api.signIn(actor)).refresh);
}

async function clientOf(api: TestApp, session: string): Promise<ConsoleClient> {
  const client: ConsoleClient = {
    session,
    csrf: "",
    get: (path) => consoleRequest(api, path, { headers: { cookie: `${SESSION_COOKIE}=${session}` } }),
    post: (path, fields = {}, options = {}) =>
      consoleRequest(api, path, {
        method: "POST",
        headers: { cookie: `${SESSION_COOKIE}=${session}` },
        body: new URLSearchParams(options.withoutCsrf ? fields : { _csrf: client.csrf, ...fields }),
      }),
  };
  const dashboard = await client.get("/admin/");
  const page = await dashboard.text();
  client.csrf = page.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? "";
  return client;
}

/** A role of the given permissions (and the console), given to a new user: e.g. a billing clerk. */
export async function makeStaff(api: TestApp, name: string, permissions: Permission[]): Promise<Actor> {
  const [role] = await api.db.insert(roles).values({ roleName: name, description: name }).returning();
  await api.db.insert(rolePermissions).values(permissions.map((permission) => ({ roleId: role.id, permission })));
  const user = await api.makeUser([]);
  await api.database.ownerQuery(`insert into user_roles (user_id, role_id) values (${user.id}, ${role.id})`);
  return user;
}
