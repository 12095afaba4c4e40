import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app_env.ts";
import { publicUrl } from "../config.ts";
import {
  createDoctor,
  deleteDoctor,
  DOCTOR_ORDERINGS,
  type DoctorRow,
  findDoctor,
  listDoctors,
  updateDoctor,
} from "../db/doctors.ts";
import { notFound, ProblemError, sqlState } from "../middleware/problem.ts";
import { audited } from "../services/audited.ts";
import { keyset, orderingQuery, pageQuery, publicRequestUrl } from "../services/pagination.ts";
import { declareRoute, jsonBody, jsonResponse, newRouter, problems } from "./_route.ts";
import { IdParam, ownerField, pageOf } from "./_schemas.ts";

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

const HH_MM = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/;
const timeOfDay = z.string().regex(HH_MM, "Use HH:MM, from 00:00 to 24:00");
/** Both ends well formed (their own issues are reported already) and in order. */
const inOrder = (i: { start: string; end: string }) => HH_MM.test(i.start) && HH_MM.test(i.end) && i.start < i.end;
const Interval = z.strictObject({ start: timeOfDay, end: timeOfDay })
  .refine((i) => !HH_MM.test(i.start) || !HH_MM.test(i.end) || i.start < i.end, {
    message: "Must be later than start",
    path: ["end"],
  });
/** One day's hours: up to 4 intervals that do not overlap, stored in start order. */
const Day = z.array(Interval).max(4)
  .superRefine((day, ctx) => {
    if (!day.every(inOrder)) return;
    const sorted = day.map((interval, index) => ({ ...interval, index })).sort(byStart);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].start < sorted[i - 1].end) {
        ctx.addIssue({ code: "custom", message: "Overlaps another interval of the same day", path: [sorted[i].index] });
      }
    }
  })
  .overwrite((day) => [...day].sort(byStart));
const WorkingHours = z.strictObject({
  mon: Day.optional(),
  tue: Day.optional(),
  wed: Day.optional(),
  thu: Day.optional(),
  fri: Day.optional(),
  sat: Day.optional(),
  sun: Day.optional(),
}).openapi("WorkingHours", {
  description: "Weekly hours in the doctor's time zone: per weekday, up to 4 `{start, end}` intervals (HH:MM)",
  example: { mon: [{ start: "09:00", end: "12:00" }, { start: "13:00", end: "17:00" }] },
});
type WorkingHoursValue = z.infer<typeof WorkingHours>;

/** An IANA zone name as the runtime's time zone database knows it (not a bare UTC offset). */
const timeZone = z.string().max(64)
  .refine(isTimeZone, "Not an IANA time zone, such as Europe/Paris")
  .overwrite(canonicalTimeZone)
  .openapi({ description: "IANA time zone name", example: "Europe/Paris" });

const Doctor = z.object({
  id: z.number().int(),
  user: z.number().int(),
  first_name: z.string(),
  last_name: z.string(),
  specialization: z.string(),
  bio: z.string(),
  working_hours: WorkingHours.nullable(),
  time_zone: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Doctor");

const editable = {
  first_name: z.string().max(100),
  last_name: z.string().max(100),
  specialization: z.string().max(100),
  bio: z.string().max(5000),
  working_hours: WorkingHours.nullable(),
  time_zone: timeZone,
};
const DoctorCreate = z.strictObject(editable).partial().extend({ user: ownerField }).openapi("DoctorCreate");
const DoctorPut = z.strictObject({ user: ownerField.optional(), ...editable }).openapi("DoctorUpdate");
const DoctorPatch = z.strictObject({ user: ownerField, ...editable }).partial().openapi("DoctorPatch");

const ORDERINGS = Object.keys(DOCTOR_ORDERINGS) as (keyof typeof DOCTOR_ORDERINGS)[];
const ListQuery = z.object({
  ...pageQuery,
  ordering: orderingQuery(ORDERINGS, "id"),
  specialization: z.string().max(100).optional().openapi({ description: "Exact specialization, any letter case" }),
  search: z.string().max(100).optional().openapi({ description: "Part of a first name, last name or full name" }),
});

/** The directory is not health data: any signed-in user reads it, and reads are not audited. */
const read = { kind: "signed-in" } as const;
const write = { kind: "permission", permission: "doctors:write", any: "doctors:write:any", scope: "self" } as const;
const admin = { kind: "permission", permission: "doctors:write:any", scope: "all" } as const;
const TABLE = "doctor_profiles";

const list = declareRoute({
  method: "get",
  path: "/doctors",
  operationId: "doctors_list",
  tags: ["doctors"],
  summary: "The doctor directory",
  access: read,
  request: { query: ListQuery },
  responses: { 200: jsonResponse("A page of doctors", pageOf(Doctor)), ...problems(400, 401) },
});

const get = declareRoute({
  method: "get",
  path: "/doctors/{id}",
  operationId: "doctors_read",
  tags: ["doctors"],
  summary: "One doctor's directory entry",
  access: read,
  request: { params: IdParam },
  responses: { 200: jsonResponse("The doctor", Doctor), ...problems(401, 404) },
});

const create = declareRoute({
  method: "post",
  path: "/doctors",
  operationId: "doctors_create",
  tags: ["doctors"],
  summary: "Create the profile of a user holding the doctor role (administrators; one per user)",
  access: admin,
  audit: { action: "create", table: TABLE },
  idempotent: true,
  request: jsonBody(DoctorCreate),
  responses: { 201: jsonResponse("The new profile", Doctor), ...problems(400, 401, 403, 409, 413, 415, 422) },
});

const put = declareRoute({
  method: "put",
  path: "/doctors/{id}",
  operationId: "doctors_update",
  tags: ["doctors"],
  summary: "Replace the editable fields of a doctor profile (a doctor: their own)",
  access: write,
  audit: { action: "update", table: TABLE },
  request: { params: IdParam, ...jsonBody(DoctorPut) },
  responses: { 200: jsonResponse("The profile", Doctor), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

const patch = declareRoute({
  method: "patch",
  path: "/doctors/{id}",
  operationId: "doctors_partial_update",
  tags: ["doctors"],
  summary: "Change some fields of a doctor profile (a doctor: their own)",
  access: write,
  audit: { action: "update", table: TABLE },
  request: { params: IdParam, ...jsonBody(DoctorPatch) },
  responses: { 200: jsonResponse("The profile", Doctor), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

const remove = declareRoute({
  method: "delete",
  path: "/doctors/{id}",
  operationId: "doctors_delete",
  tags: ["doctors"],
  summary: "Delete a doctor profile (administrators)",
  access: admin,
  audit: { action: "delete", table: TABLE },
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404) },
});

export function doctorRoutes() {
  const app = newRouter();

  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const page = keyset({
      ordering: q.ordering,
      columns: DOCTOR_ORDERINGS,
      id: DOCTOR_ORDERINGS.id,
      pageSize: q.page_size,
      cursor: q.cursor,
      url: publicRequestUrl(publicUrl(c.get("deps").config), c.req.url),
    });
    const field = q.ordering.replace(/^-/, "") as keyof typeof DOCTOR_ORDERINGS;
    const rows = await listDoctors(c.get("deps"), { specialization: q.specialization, search: q.search, ...page });
    return c.json(page.page(rows, (r) => ({ value: sortValue(r, field), id: r.userId }), doctorView), 200);
  });

  app.openapi(get, async (c) => {
    const found = await findDoctor(c.get("deps"), c.req.valid("param").id);
    if (!found) throw notFound();
    return c.json(doctorView(found), 200);
  });

  app.openapi(create, async (c) => {
    const { user, ...fields } = c.req.valid("json");
    const row = await audited(c, async (tx) => {
      const created = await createDoctor(tx, user, toColumns(fields)).catch(alreadyHasProfile);
      if (!created) {
        throw new ProblemError(422, "validation", "The user does not hold the doctor role", {
          errors: [{ pointer: "/user", detail: "Not a doctor" }],
        });
      }
      return { result: doctorView(created), rowIds: [user], patientIds: [] };
    });
    return c.json(row, 201);
  });

  const change = async (c: Context<AppEnv>, id: number, body: { user?: number } & Record<string, unknown>) => {
    const { user, ...fields } = body;
    if (user !== undefined && user !== id) throw readOnly("/user");
    return await audited(c, async (tx) => {
      const updated = await updateDoctor(tx, c.get("scope"), id, toColumns(fields), c.get("deps").clock());
      if (!updated) throw notFound();
      return { result: doctorView(updated), rowIds: [id], patientIds: [] };
    }, { details: { fields: Object.keys(fields) } });
  };
  app.openapi(put, async (c) => c.json(await change(c, c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(patch, async (c) => c.json(await change(c, c.req.valid("param").id, c.req.valid("json")), 200));

  app.openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    await audited(c, async (tx) => {
      if (!(await deleteDoctor(tx, c.get("scope"), id))) throw notFound();
      return { result: null, rowIds: [id], patientIds: [] };
    });
    return c.body(null, 204);
  });

  return app;
}

function byStart(a: { start: string }, b: { start: string }): number {
  return a.start < b.start ? -1 : a.start > b.start ? 1 : 0;
}

function isTimeZone(name: string): boolean {
  // Intl also takes bare offsets such as "+05:00"; those are not zone names.
  if (!/^[A-Za-z]/.test(name)) return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The runtime's spelling of a zone ("europe/paris" → "Europe/Paris"); invalid names are left as sent. */
function canonicalTimeZone(name: string): string {
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return name;
  }
}

function readOnly(pointer: string, detail = "Cannot be changed"): ProblemError {
  return new ProblemError(422, "validation", "The request body is invalid", { errors: [{ pointer, detail }] });
}

function alreadyHasProfile(e: unknown): never {
  if (sqlState(e) === "23505") throw new ProblemError(409, "conflict", "This user already has a doctor profile");
  throw e;
}

function toColumns(fields: Record<string, unknown>) {
  const map: Record<string, string> = {
    first_name: "firstName",
    last_name: "lastName",
    specialization: "specialization",
    bio: "bio",
    working_hours: "workingHours",
    time_zone: "timeZone",
  };
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [map[k], v]));
}

function sortValue(row: DoctorRow, field: keyof typeof DOCTOR_ORDERINGS): unknown {
  return { id: row.userId, last_name: row.lastName, specialization: row.specialization }[field];
}

/** Stored hours in calendar order, each interval as `{start, end}` (jsonb keeps keys in its own order). */
function weekOrder(stored: unknown): WorkingHoursValue | null {
  if (!stored || typeof stored !== "object") return null;
  const hours = stored as Record<string, { start: string; end: string }[] | undefined>;
  return Object.fromEntries(
    WEEKDAYS.filter((d) => hours[d]).map((d) => [d, hours[d]!.map(({ start, end }) => ({ start, end }))]),
  ) as WorkingHoursValue;
}

export function doctorView(d: DoctorRow) {
  return {
    id: d.userId,
    user: d.userId,
    first_name: d.firstName,
    last_name: d.lastName,
    specialization: d.specialization,
    bio: d.bio,
    working_hours: weekOrder(d.workingHours),
    time_zone: d.timeZone,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}
