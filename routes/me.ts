import { eq } from "drizzle-orm";
import { users } from "../db/schema.ts";
import { principalOf } from "../middleware/authenticate.ts";
import { profileOf, rolesAndPermissions } from "../services/users.ts";
import { declareRoute, jsonResponse, newRouter, problems } from "./_route.ts";
import { Me } from "./auth_schemas.ts";

const me = declareRoute({
  method: "get",
  path: "/me",
  operationId: "me",
  tags: ["auth"],
  summary: "The caller's user, roles, permissions and profile",
  access: { kind: "signed-in" },
  responses: { 200: jsonResponse("The caller", Me), ...problems(401) },
});

export function meRoutes() {
  const app = newRouter();
  app.openapi(me, async (c) => {
    const { db } = c.get("deps");
    const { userId } = principalOf(c);
    const [user] = await db.select().from(users).where(eq(users.id, userId));
    const { roles, permissions } = await rolesAndPermissions(db, userId);
    const profile = await profileOf(db, userId);
    return c.json({
      id: user.id,
      username: user.username,
      email: user.email,
      phone: user.phone,
      account_status: user.accountStatus,
      roles,
      permissions,
      profile,
    }, 200);
  });
  return app;
}
