import { contextOf } from "../../middleware/service_context.ts";
import { ALL_PERMISSIONS, PERMISSIONS } from "../../services/permissions.ts";
import * as roles from "../../services/roles.ts";
import { page, pageRequest } from "../_list.ts";
import { newRouter } from "../_route.ts";
import { create, get, list, patch, permissions, put, remove } from "./declarations.ts";

export function roleRoutes() {
  const app = newRouter();

  app.openapi(
    permissions,
    (c) => c.json(ALL_PERMISSIONS.map((code) => ({ code, description: PERMISSIONS[code] })), 200),
  );

  app.openapi(
    list,
    async (c) => c.json(page(c, await roles.listRoles(contextOf(c), pageRequest(c.req.valid("query"))), roleView), 200),
  );

  app.openapi(get, async (c) => c.json(roleView(await roles.readRole(contextOf(c), c.req.valid("param").id)), 200));

  app.openapi(create, async (c) => {
    const role = await roles.createRole(contextOf(c, { respond: roleView }), c.req.valid("json"));
    return c.json(roleView(role), 201);
  });

  app.openapi(put, async (c) => {
    // PUT replaces: a description left out is emptied.
    const role = await roles.changeRole(contextOf(c), c.req.valid("param").id, {
      description: "",
      ...c.req.valid("json"),
    });
    return c.json(roleView(role), 200);
  });

  app.openapi(patch, async (c) => {
    const role = await roles.changeRole(contextOf(c), c.req.valid("param").id, c.req.valid("json"));
    return c.json(roleView(role), 200);
  });

  app.openapi(remove, async (c) => {
    await roles.deleteRole(contextOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  return app;
}

function roleView(role: roles.RoleWithPermissions) {
  return {
    id: role.id,
    role_name: role.roleName,
    description: role.description,
    permissions: role.permissions as (typeof ALL_PERMISSIONS)[number][],
    builtin: role.builtin,
  };
}
