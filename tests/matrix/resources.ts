/** Matrix recipes for every resource beyond sign-in and patients (see core.ts). */
import type { Caller, Outcome, Recipe, Target, TargetRow, World } from "./_world.ts";
import { MISSING_ID, underCare } from "./_world.ts";
import {
  appointment,
  assignment,
  cached,
  customRole,
  futureSlot,
  labResult,
  parties,
  prescription,
} from "./_factories.ts";

type Make = (w: World, target: Target) => Promise<TargetRow>;
type Body = (w: World, row: TargetRow, target: Target, caller: Caller) => unknown | Promise<unknown>;

function on(
  method: string,
  path: (id: number | string) => string,
  make: Make,
  opts: { body?: Body; expect?: Recipe["expect"] } = {},
): Recipe {
  return {
    async request(w, target, caller) {
      const row = await make(w, target);
      const body = await opts.body?.(w, row, target, caller);
      return { cell: { method, path: path(row.id), body }, row };
    },
    expect: opts.expect,
  };
}

function plain(
  method: string,
  path: string,
  opts: { body?: Body; expect?: Recipe["expect"]; listed?: Recipe["listed"] } = {},
): Recipe {
  return {
    async request(w, target, caller) {
      return { cell: { method, path, body: await opts.body?.(w, { id: 0 }, target, caller) } };
    },
    expect: opts.expect,
    listed: opts.listed,
  };
}

/** Listed rows: their patient (`patient` field, or the id itself) and their doctor, if any. */
const rowsBy = (patient: string, doctor?: string) => (body: Record<string, unknown>) =>
  (body.results as Record<string, number>[]).map((r) => ({
    id: r.id,
    patient: r[patient],
    owner: r[patient],
    doctor: doctor ? r[doctor] : undefined,
  }));

/** Any signed-in user; a nonexistent id is 404. */
const anySignedIn: Recipe["expect"] = (_w, caller, target, row) =>
  caller === "anonymous" ? 401 : row && target === "missing" ? 404 : "2xx";
/** Answered 405 to everyone signed in (the audit trail is append-only). */
const neverAllowed: Recipe["expect"] = (_w, caller) => (caller === "anonymous" ? 401 : "refused");
/** Users: the caller's own account, or any with the `:any` permission. */
const ownAccount = (permission: string): Recipe["expect"] => (w, caller, target, row) => {
  if (caller === "anonymous") return 401;
  if (target === "missing") return 404;
  return w.permissions[caller].has(permission) || row?.id === w.actors[caller].id ? "2xx" : 404;
};
/** Creating for a patient: the patient themselves or their doctor (as the recipe says), else refused. */
function creates(permission: string, allowed: (w: World, caller: Caller, target: Target) => boolean): Recipe["expect"] {
  return (w, caller, target) => {
    if (caller === "anonymous") return 401;
    if (!w.permissions[caller].has(permission)) return 403;
    return allowed(w, caller, target) ? "2xx" : ["refused", 404];
  };
}
const isCareDoctorFor = (w: World, caller: Caller, target: Target) =>
  caller !== "anonymous" && target !== "missing" && underCare(w, w.actors[caller].id, parties(w, target).patient);

const userRow: Make = (w, target) =>
  Promise.resolve(
    target === "missing" ? { id: MISSING_ID } : { id: target === "own" ? w.actors.owner.id : w.actors.otherPatient.id },
  );
const doctorRow: Make = (w, target) =>
  Promise.resolve(
    target === "missing"
      ? { id: MISSING_ID }
      : target === "own"
      ? { id: w.actors.careDoctor.id, owner: w.actors.careDoctor.id }
      : { id: w.actors.otherDoctor.id, owner: w.actors.otherDoctor.id },
  );
const freshDoctor: Make = async (
  w,
  target,
) => (target === "missing" ? { id: MISSING_ID } : { id: (await w.api.makeDoctor()).id });
const freshUser: Make = async (
  w,
  target,
) => (target === "missing" ? { id: MISSING_ID } : { id: (await w.api.makeUser([])).id });
const auditRow: Make = (w, target) =>
  cached(w, "audit", target, async () => {
    const rows = await w.api.db.query.auditLogs.findMany({ limit: 2, orderBy: (a, { asc }) => [asc(a.id)] });
    return { id: rows[target === "own" ? 0 : 1].id };
  });
const tomorrow = () => new Date(Date.now() + 86400_000).toISOString().slice(0, 10);

export const resourceRecipes: Record<string, Recipe> = {
  "GET /me/access-log": plain("GET", "/me/access-log/", { expect: anySignedIn }),

  // Appointments: a patient sees their own, a doctor theirs (the care doctor is the doctor of the owner's).
  "GET /appointments": plain("GET", "/appointments/?page_size=200", { listed: rowsBy("patient", "doctor") }),
  "GET /appointments/{id}": on(
    "GET",
    (id) => `/appointments/${id}/`,
    (w, t) => cached(w, "appt", t, () => appointment(w, t)),
  ),
  "POST /appointments": plain("POST", "/appointments/", {
    body: (w, _r, target) => {
      const { patient, doctor } = parties(w, target);
      return { patient, doctor, appointment_date: futureSlot().toISOString(), duration_minutes: 30, reason: "matrix" };
    },
    expect: creates("appointments:write", (w, caller, target) =>
      caller === "admin" && target !== "missing" ||
      (target !== "missing" && w.actors[caller as "owner"]?.id === parties(w, target).patient) ||
      (caller === "careDoctor" && target === "own")),
  }),
  "PATCH /appointments/{id}": on("PATCH", (id) => `/appointments/${id}/`, appointment, {
    body: () => ({ status: "cancelled", cancellation_reason: "matrix" }),
  }),
  "PUT /appointments/{id}": on("PUT", (id) => `/appointments/${id}/`, appointment, {
    body: async (w, row) => {
      if (row.id === MISSING_ID) return { appointment_date: futureSlot().toISOString() };
      const found = await w.api.db.query.appointments.findFirst({ where: (a, { eq }) => eq(a.id, Number(row.id)) });
      return { appointment_date: found!.appointmentDate.toISOString(), reason: "" };
    },
  }),
  "DELETE /appointments/{id}": on("DELETE", (id) => `/appointments/${id}/`, appointment),
  "GET /doctors/{id}/slots": on("GET", (id) => `/doctors/${id}/slots/?date=${tomorrow()}`, doctorRow, {
    expect: anySignedIn,
  }),

  // Doctors' directory: read by anyone signed in; a doctor edits their own profile.
  "GET /doctors": plain("GET", "/doctors/", { expect: anySignedIn }),
  "GET /doctors/{id}": on("GET", (id) => `/doctors/${id}/`, doctorRow, { expect: anySignedIn }),
  // A doctor creates their own profile (theirs exists already: 409); an administrator anyone's.
  "POST /doctors": plain("POST", "/doctors/", {
    body: async (w, _r, target, caller) => {
      if (target === "own" && (caller === "careDoctor" || caller === "colleague" || caller === "otherDoctor")) {
        return {};
      }
      return { user: target === "missing" ? MISSING_ID : await doctorWithoutProfile(w) };
    },
    expect: (w, caller, target) => {
      if (caller === "anonymous") return 401;
      const perms = w.permissions[caller];
      if (!perms.has("doctors:write") && !perms.has("doctors:write:any")) return 403;
      return perms.has("doctors:write:any") && target !== "missing" ? "2xx" : "refused";
    },
  }),
  "PUT /doctors/{id}": on("PUT", (id) => `/doctors/${id}/`, doctorRow, {
    body: () => ({
      first_name: "Doc",
      last_name: "Matrix",
      specialization: "GP",
      bio: "",
      working_hours: null,
      time_zone: "UTC",
    }),
  }),
  "PATCH /doctors/{id}": on("PATCH", (id) => `/doctors/${id}/`, doctorRow, { body: () => ({ bio: "matrix" }) }),
  "DELETE /doctors/{id}": on("DELETE", (id) => `/doctors/${id}/`, freshDoctor),

  // Prescriptions: the care doctor writes; the patient only asks for a refill.
  "GET /prescriptions": plain("GET", "/prescriptions/?page_size=200", { listed: rowsBy("patient") }),
  "GET /prescriptions/{id}": on(
    "GET",
    (id) => `/prescriptions/${id}/`,
    (w, t) => cached(w, "rx", t, () => prescription(w, t)),
  ),
  "GET /prescriptions/{id}/history": on(
    "GET",
    (id) => `/prescriptions/${id}/history/`,
    (w, t) => cached(w, "rx", t, () => prescription(w, t)),
  ),
  "POST /prescriptions": plain("POST", "/prescriptions/", {
    body: (w, _r, target) => ({
      patient: parties(w, target).patient,
      medication: "Ibuprofen",
      dosage: "200 mg",
      frequency: "2/day",
    }),
    expect: creates("prescriptions:write", isCareDoctorFor),
  }),
  "PATCH /prescriptions/{id}": on("PATCH", (id) => `/prescriptions/${id}/`, prescription, {
    body: () => ({ refill_requested: true }),
    expect: (w, caller, target, row) => {
      if (caller === "anonymous") return 401;
      const perms = w.permissions[caller];
      const canWrite = perms.has("prescriptions:refill") || perms.has("prescriptions:write");
      if (!canWrite && !perms.has("prescriptions:read:any")) return 403;
      if (target === "missing") return 404;
      const me = w.actors[caller].id;
      const visible = perms.has("prescriptions:read:any") || row?.patient === me || underCare(w, me, row?.patient);
      if (!visible) return 404;
      return row?.patient === me ? "2xx" : ["refused", 403];
    },
  }),
  "DELETE /prescriptions/{id}": on("DELETE", (id) => `/prescriptions/${id}/`, prescription),

  // Lab results: the care doctor creates and corrects; patients read final results.
  "GET /labresults": plain("GET", "/labresults/?page_size=200", { listed: rowsBy("patient") }),
  "GET /labresults/{id}": on("GET", (id) => `/labresults/${id}/`, (w, t) => cached(w, "lab", t, () => labResult(w, t))),
  "GET /labresults/{id}/file": on(
    "GET",
    (id) => `/labresults/${id}/file/`,
    (w, t) => cached(w, "lab", t, () => labResult(w, t)),
  ),
  "POST /labresults": plain("POST", "/labresults/", {
    body: (w, _r, target) => ({
      patient: parties(w, target).patient,
      test_type: "glucose",
      result_value: "5.0",
      status: "final",
    }),
    expect: creates("labresults:write", isCareDoctorFor),
  }),
  "PATCH /labresults/{id}": on("PATCH", (id) => `/labresults/${id}/`, (w, t) => labResult(w, t, "preliminary"), {
    body: () => ({ comments: "matrix" }),
    expect: (w, caller, target, row) => labWrite(w, caller, target, row),
  }),
  "POST /labresults/{id}/corrections": on("POST", (id) => `/labresults/${id}/corrections/`, labResult, {
    body: () => ({ result_value: "5.3" }),
    expect: (w, caller, target, row) => labWrite(w, caller, target, row),
  }),

  // Audit trail: administrators read and append; nobody edits.
  "GET /auditlogs": plain("GET", "/auditlogs/"),
  "GET /auditlogs/verify": plain("GET", "/auditlogs/verify/"),
  "GET /auditlogs/{id}": on("GET", (id) => `/auditlogs/${id}/`, auditRow),
  "POST /auditlogs": plain("POST", "/auditlogs/", {
    body: () => ({ action: "shift_handover_note", target_table: "ward", details: "two patients handed over" }),
  }),
  "PUT /auditlogs/{id}": on("PUT", (id) => `/auditlogs/${id}/`, auditRow, { expect: neverAllowed }),
  "PATCH /auditlogs/{id}": on("PATCH", (id) => `/auditlogs/${id}/`, auditRow, { expect: neverAllowed }),
  "DELETE /auditlogs/{id}": on("DELETE", (id) => `/auditlogs/${id}/`, auditRow, { expect: neverAllowed }),

  // Users: everyone reaches their own account; administrators every account.
  "GET /users": plain("GET", "/users/?page_size=200", { listed: rowsBy("id"), expect: anySignedIn }),
  "GET /users/{id}": on("GET", (id) => `/users/${id}/`, userRow, { expect: ownAccount("users:read:any") }),
  "PATCH /users/{id}": on("PATCH", (id) => `/users/${id}/`, userRow, {
    body: () => ({ phone: "+1 555 0100" }),
    expect: ownAccount("users:write:any"),
  }),
  "PUT /users/{id}": on("PUT", (id) => `/users/${id}/`, userRow, {
    body: (w, row) => {
      const actor = Object.values(w.actors).find((a) => a.id === row.id);
      return { email: actor?.email ?? "nobody@example.test", phone: "+1 555 0101" };
    },
    expect: ownAccount("users:write:any"),
  }),
  "POST /users": plain("POST", "/users/", {
    body: () => {
      const name = `matrix_${crypto.randomUUID().slice(0, 8)}`;
      return { username: name, email: `${name}@example.test`, password: "a matrix passphrase 9" };
    },
  }),
  "DELETE /users/{id}": on("DELETE", (id) => `/users/${id}/`, freshUser),

  // Roles and assignments: read by anyone signed in (roles) or admins (assignments); written by admins.
  "GET /permissions": plain("GET", "/permissions/", { expect: anySignedIn }),
  "GET /roles": plain("GET", "/roles/", { expect: anySignedIn }),
  "GET /roles/{id}": on("GET", (id) => `/roles/${id}/`, (w, t) => cached(w, "role", t, () => customRole(w, t)), {
    expect: anySignedIn,
  }),
  "POST /roles": plain("POST", "/roles/", {
    body: () => ({ role_name: `matrix-${crypto.randomUUID().slice(0, 8)}`, permissions: ["messages:read"] }),
  }),
  "PUT /roles/{id}": on("PUT", (id) => `/roles/${id}/`, customRole, {
    body: () => ({ role_name: `matrix-${crypto.randomUUID().slice(0, 8)}`, permissions: [] }),
  }),
  "PATCH /roles/{id}": on("PATCH", (id) => `/roles/${id}/`, customRole, { body: () => ({ description: "matrix" }) }),
  "DELETE /roles/{id}": on("DELETE", (id) => `/roles/${id}/`, customRole),
  "GET /userroles": plain("GET", "/userroles/"),
  "GET /userroles/{id}": on("GET", (id) => `/userroles/${id}/`, (w, t) => cached(w, "ur", t, () => assignment(w, t))),
  "POST /userroles": plain("POST", "/userroles/", {
    body: async (w) => ({ user: (await w.api.makeUser([])).id, role: Number((await customRole(w, "own")).id) }),
  }),
  "PUT /userroles/{id}": on("PUT", (id) => `/userroles/${id}/`, assignment, {
    body: async (w, row) => ({ user: row.owner ?? MISSING_ID, role: Number((await customRole(w, "own")).id) }),
  }),
  "PATCH /userroles/{id}": on("PATCH", (id) => `/userroles/${id}/`, assignment, {
    body: async (w) => ({ role: Number((await customRole(w, "own")).id) }),
  }),
  "DELETE /userroles/{id}": on("DELETE", (id) => `/userroles/${id}/`, assignment),
};

/** Writing a lab result: only its physician; another doctor caring for the patient sees it but may not (403). */
function labWrite(w: World, caller: Caller, target: Target, row: TargetRow | undefined): Outcome | Outcome[] {
  if (caller === "anonymous") return 401;
  if (!w.permissions[caller].has("labresults:write")) return 403;
  if (target === "missing") return 404;
  const me = w.actors[caller].id;
  const visible = row?.patient === me || underCare(w, me, row?.patient);
  if (!visible) return 404;
  return row?.doctor === me ? "2xx" : 403;
}

async function doctorWithoutProfile(w: World): Promise<number> {
  const user = await w.api.makeDoctor();
  await w.api.database.ownerQuery(`delete from doctor_profiles where user_id = ${user.id}`);
  return user.id;
}
