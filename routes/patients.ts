import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app_env.ts";
import {
  createPatient,
  deletePatient,
  findPatient,
  listPatients,
  PATIENT_ORDERINGS,
  type PatientRow,
  updatePatient,
} from "../db/patients.ts";
import { principalOf } from "../middleware/authenticate.ts";
import { notFound, ProblemError, sqlState } from "../middleware/problem.ts";
import { audited } from "../services/audited.ts";
import { keyset, orderingQuery, pageQuery, publicRequestUrl } from "../services/pagination.ts";
import { publicUrl } from "../config.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "./_route.ts";
import { phone } from "./auth_schemas.ts";
import { calendarDate, IdParam, ownerField, pageOf } from "./_schemas.ts";

const Patient = z.object({
  id: z.number().int(),
  user: z.number().int(),
  first_name: z.string(),
  last_name: z.string(),
  date_of_birth: z.string().nullable(),
  phone: z.string().nullable(),
  address: z.string().nullable(),
  emergency_contact: z.string().nullable(),
  medical_history: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Patient");

const editable = {
  first_name: z.string().max(100),
  last_name: z.string().max(100),
  date_of_birth: calendarDate.nullable(),
  phone: phone.nullable(),
  address: z.string().max(500).nullable(),
  emergency_contact: z.string().max(500).nullable(),
  medical_history: z.string().max(5000).nullable(),
};
const PatientCreate = z.strictObject({ user: ownerField, ...editable }).partial().openapi("PatientCreate");
const PatientPut = z.strictObject({ user: ownerField.optional(), ...editable }).openapi("PatientUpdate");
const PatientPatch = z.strictObject({ user: ownerField, ...editable }).partial().openapi("PatientPatch");

const ORDERINGS = Object.keys(PATIENT_ORDERINGS) as (keyof typeof PATIENT_ORDERINGS)[];
const ListQuery = z.object({
  ...pageQuery,
  ordering: orderingQuery(ORDERINGS, "id"),
  search: z.string().max(100).optional().openapi({ description: "Part of a first or last name" }),
});

const read = { kind: "permission", permission: "patients:read", any: "patients:read:any", scope: "patient" } as const;
const write = { kind: "permission", permission: "patients:write", any: "patients:write:any", scope: "self" } as const;
const TABLE = "patient_profiles";

const list = declareRoute({
  method: "get",
  path: "/patients",
  operationId: "patients_list",
  tags: ["patients"],
  summary: "Patient profiles: a patient sees their own, a doctor those under their care, an admin all",
  access: read,
  audit: { action: "list", table: TABLE },
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of patients", pageOf(Patient)), ...problems(400, 401, 403) },
});

const get = declareRoute({
  method: "get",
  path: "/patients/{id}",
  operationId: "patients_read",
  tags: ["patients"],
  summary: "One patient profile",
  access: read,
  audit: { action: "read", table: TABLE },
  request: { params: IdParam },
  responses: { 200: jsonResponse("The patient", Patient), ...problems(401, 403, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/patients",
  operationId: "patients_create",
  tags: ["patients"],
  summary: "Create a patient profile (one per user with the patient role; `user` is the caller unless admin)",
  access: write,
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(PatientCreate),
  responses: { 201: jsonResponse("The new profile", Patient), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

const put = declareRoute({
  method: "put",
  path: "/patients/{id}",
  operationId: "patients_update",
  tags: ["patients"],
  summary: "Replace the editable fields of a patient profile",
  access: write,
  audit: { action: "update", table: TABLE },
  request: { params: IdParam, ...jsonBody(PatientPut) },
  responses: { 200: jsonResponse("The profile", Patient), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

const patch = declareRoute({
  method: "patch",
  path: "/patients/{id}",
  operationId: "patients_partial_update",
  tags: ["patients"],
  summary: "Change some fields of a patient profile",
  access: write,
  audit: { action: "update", table: TABLE },
  request: { params: IdParam, ...jsonBody(PatientPatch) },
  responses: { 200: jsonResponse("The profile", Patient), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

const remove = declareRoute({
  method: "delete",
  path: "/patients/{id}",
  operationId: "patients_delete",
  tags: ["patients"],
  summary: "Delete a patient profile (administrators)",
  access: { kind: "permission", permission: "patients:write:any", scope: "all" },
  audit: { action: "delete", table: TABLE },
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404) },
});

export function patientRoutes() {
  const app = newRouter();

  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const page = keyset({
      ordering: q.ordering,
      columns: PATIENT_ORDERINGS,
      id: PATIENT_ORDERINGS.id,
      pageSize: q.page_size,
      cursor: q.cursor,
      url: publicRequestUrl(publicUrl(c.get("deps").config), c.req.url),
    });
    const field = q.ordering.replace(/^-/, "") as keyof typeof PATIENT_ORDERINGS;
    const body = await audited(c, async (tx) => {
      const rows = await listPatients(tx, c.get("scope"), { search: q.search, ...page });
      const result = page.page(rows, (r) => ({ value: sortValue(r, field), id: r.userId }), patientView);
      const ids = result.results.map((p) => p.id);
      return { result, rowIds: ids, patientIds: ids };
    });
    return c.json(body, 200);
  });

  app.openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const row = await audited(c, async (tx) => {
      const found = await findPatient(tx, c.get("scope"), id);
      if (!found) throw notFound();
      return { result: found, rowIds: [id], patientIds: [id] };
    });
    return c.json(patientView(row), 200);
  });

  app.openapi(create, async (c) => {
    const { user, ...fields } = c.req.valid("json");
    const owner = ownerOf(c, user);
    const row = await audited(c, async (tx) => {
      const created = await createPatient(tx, owner, toColumns(fields)).catch(alreadyHasProfile);
      if (!created) {
        throw new ProblemError(422, "validation", "The user does not hold the patient role", {
          errors: [{ pointer: "/user", detail: "Not a patient" }],
        });
      }
      return { result: patientView(created), rowIds: [owner], patientIds: [owner] };
    });
    return c.json(row, 201);
  });

  const change = async (c: Context<AppEnv>, id: number, body: { user?: number } & Record<string, unknown>) => {
    const { user, ...fields } = body;
    if (user !== undefined && user !== id) throw readOnly("/user");
    return await audited(c, async (tx) => {
      const updated = await updatePatient(tx, c.get("scope"), id, toColumns(fields), c.get("deps").clock());
      if (!updated) throw notFound();
      return { result: patientView(updated), rowIds: [id], patientIds: [id] };
    }, { details: { fields: Object.keys(fields) } });
  };
  app.openapi(put, async (c) => c.json(await change(c, c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(patch, async (c) => c.json(await change(c, c.req.valid("param").id, c.req.valid("json")), 200));

  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    await audited(c, async (tx) => {
      if (!(await deletePatient(tx, c.get("scope"), id))) throw notFound();
      return { result: null, rowIds: [id], patientIds: [id] };
    });
    return c.body(null, 204);
  });

  return app;
}

/** The owner of a new profile: the caller, unless an admin names another user. */
function ownerOf(c: Context<AppEnv>, requested: number | undefined): number {
  const principal = principalOf(c);
  if (requested === undefined || requested === principal.userId) return principal.userId;
  if (c.get("scope")?.kind === "any") return requested;
  throw readOnly("/user", "Must be your own user id");
}

function readOnly(pointer: string, detail = "Cannot be changed"): ProblemError {
  return new ProblemError(422, "validation", "The request body is invalid", { errors: [{ pointer, detail }] });
}

function alreadyHasProfile(e: unknown): never {
  if (sqlState(e) === "23505") {
    throw new ProblemError(409, "conflict", "This user already has a patient profile");
  }
  throw e;
}

function toColumns(fields: Record<string, unknown>) {
  const map: Record<string, string> = {
    first_name: "firstName",
    last_name: "lastName",
    date_of_birth: "dateOfBirth",
    phone: "phone",
    address: "address",
    emergency_contact: "emergencyContact",
    medical_history: "medicalHistory",
  };
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [map[k], v]));
}

function sortValue(row: PatientRow, field: keyof typeof PATIENT_ORDERINGS): unknown {
  return { id: row.userId, last_name: row.lastName, first_name: row.firstName, created_at: row.createdAt }[field];
}

export function patientView(p: PatientRow) {
  return {
    id: p.userId,
    user: p.userId,
    first_name: p.firstName,
    last_name: p.lastName,
    date_of_birth: p.dateOfBirth,
    phone: p.phone,
    address: p.address,
    emergency_contact: p.emergencyContact,
    medical_history: p.medicalHistory,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}
