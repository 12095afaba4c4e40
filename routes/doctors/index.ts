/** The doctor directory and doctor profiles: who may do what (one screen) and the handlers. */
import { contextOf } from "../../middleware/service_context.ts";
import * as doctors from "../../services/doctors.ts";
import { page, pageOf, pageRequest } from "../_list.ts";
import { declareRoute, declareUpdate, jsonBody, jsonResponse, newRouter, problems } from "../_route.ts";
import { IdParam } from "../_schemas.ts";
import { doctorView } from "../_views.ts";
import { Doctor, DoctorChange, DoctorCreate, doctorValues, ListQuery } from "./schemas.ts";
import { slotRoutes } from "./slots.ts";

/**
 * The directory is not health data: any signed-in user reads it, and reads are not audited. It
 * lists doctors whose accounts are active; an administrator (`doctors:write:any`) sees them all.
 */
const read = { kind: "signed-in", policy: "doctors:listed", any: "doctors:write:any" } as const;
const write = {
  kind: "permission",
  permission: "doctors:write",
  any: "doctors:write:any",
  policy: "doctors:self",
} as const;
const admin = { kind: "permission", permission: "doctors:write:any", policy: "all" } as const;
const TABLE = "doctor_profiles";
const tags = ["doctors"];

const list = declareRoute({
  method: "get",
  path: "/doctors",
  operationId: "doctors_list",
  tags,
  summary: "The doctor directory",
  access: read,
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of doctors", pageOf(Doctor)), ...problems(400, 401) },
});

const get = declareRoute({
  method: "get",
  path: "/doctors/{id}",
  operationId: "doctors_read",
  tags,
  summary: "One doctor's directory entry",
  access: read,
  request: { params: IdParam },
  responses: { 200: jsonResponse("The doctor", Doctor), ...problems(401, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/doctors",
  operationId: "doctors_create",
  tags,
  summary: "Create a doctor profile: a doctor their own (once), an administrator anyone's",
  access: write,
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(DoctorCreate),
  responses: { 201: jsonResponse("The new profile", Doctor), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

const [put, patch] = declareUpdate({
  path: "/doctors/{id}",
  operationId: "doctors",
  tags,
  summary: "Change a doctor profile (a doctor: their own; PUT: every field)",
  access: write,
  audit: { action: "update", table: TABLE },
  params: IdParam,
  body: DoctorChange,
  bodyName: "Doctor",
  responses: { 200: jsonResponse("The profile", Doctor), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

const remove = declareRoute({
  method: "delete",
  path: "/doctors/{id}",
  operationId: "doctors_delete",
  tags,
  summary: "Delete a doctor profile (administrators)",
  access: admin,
  audit: { action: "delete", table: TABLE },
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404) },
});

export function doctorRoutes() {
  const app = newRouter();
  app.openapi(list, async (c) => {
    const { specialization, search, ...q } = c.req.valid("query");
    return c.json(
      page(c, await doctors.listDoctors(contextOf(c), { specialization, search }, pageRequest(q)), doctorView),
      200,
    );
  });
  app.openapi(
    get,
    async (c) => c.json(doctorView(await doctors.readDoctor(contextOf(c), c.req.valid("param").id)), 200),
  );
  app.openapi(create, async (c) => {
    const { user, ...body } = c.req.valid("json");
    const row = await doctors.createDoctor(contextOf(c, { respond: doctorView }), user, doctorValues(body));
    return c.json(doctorView(row), 201);
  });
  for (const route of [put, patch]) {
    app.openapi(route, async (c) => {
      const { user, ...body } = c.req.valid("json");
      return c.json(
        doctorView(await doctors.changeDoctor(contextOf(c), c.req.valid("param").id, user, doctorValues(body))),
        200,
      );
    });
  }
  app.openapi(remove, async (c) => {
    await doctors.deleteDoctor(contextOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  app.route("/", slotRoutes());
  return app;
}
