import { contextOf } from "../../middleware/service_context.ts";
import * as accounts from "../../services/accounts.ts";
import { page, pageRequest } from "../_list.ts";
import { newRouter } from "../_route.ts";
import { userView } from "../_views.ts";
import { create, get, list, patch, put, remove } from "./declarations.ts";

export function userRoutes() {
  const app = newRouter();

  app.openapi(list, async (c) => {
    const { account_status, role, ...q } = c.req.valid("query");
    const slice = await accounts.listUsers(contextOf(c), { accountStatus: account_status, role }, pageRequest(q));
    return c.json(page(c, slice, userView), 200);
  });

  app.openapi(get, async (c) => c.json(userView(await accounts.readUser(contextOf(c), c.req.valid("param").id)), 200));

  app.openapi(create, async (c) => {
    const { account_status, ...body } = c.req.valid("json");
    const user = await accounts.createUser(contextOf(c, { respond: userView }), {
      ...body,
      accountStatus: account_status,
    });
    return c.json(userView(user), 201);
  });

  for (const route of [put, patch]) {
    app.openapi(route, async (c) => {
      const user = await accounts.changeUser(contextOf(c), c.req.valid("param").id, c.req.valid("json"));
      return c.json(userView(user), 200);
    });
  }

  app.openapi(remove, async (c) => {
    await accounts.deactivateUser(contextOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  return app;
}
