/** Matrix recipes for payments and integration logs. */
import { inArray } from "drizzle-orm";
import { doctorProfiles, integrationLogs, payments } from "../../db/schema.ts";
import { appointment, cached, parties } from "./_factories.ts";
import type { Recipe, Target, TargetRow, World } from "./_world.ts";
import { MISSING_ID } from "./_world.ts";

/** The fee of the doctors of both targets' appointments (set once), so there is something to pay. */
async function withFees(w: World) {
  if (w.cache.has("fees")) return;
  const doctors = [parties(w, "own").doctor, parties(w, "another").doctor];
  await w.api.db.update(doctorProfiles).set({ consultationFee: 5000, currency: "USD" })
    .where(inArray(doctorProfiles.userId, doctors));
  w.cache.set("fees", { id: 0 });
}

/** A completed sandbox payment of the target patient's appointment. */
async function payment(w: World, target: Target): Promise<TargetRow> {
  if (target === "missing") return { id: MISSING_ID };
  const appt = await appointment(w, target);
  const [row] = await w.api.db.insert(payments).values({
    patientId: appt.patient!,
    appointmentId: Number(appt.id),
    amount: 5000,
    currency: "USD",
    paymentMethod: "card",
    provider: "sandbox",
    status: "completed",
    providerReference: `sbx_pi_matrix_${crypto.randomUUID().slice(0, 8)}`,
  }).returning();
  return { id: row.id, patient: row.patientId, owner: row.patientId };
}

async function logEntry(w: World, target: Target): Promise<TargetRow> {
  if (target === "missing") return { id: MISSING_ID };
  const [row] = await w.api.db.insert(integrationLogs).values({
    systemName: "matrix",
    dataType: target,
    syncStatus: "success",
  }).returning();
  return { id: row.id };
}

function on(
  method: string,
  path: (id: number | string) => string,
  make: (w: World, t: Target) => Promise<TargetRow>,
  body?: unknown,
  expect?: Recipe["expect"],
): Recipe {
  return {
    async request(w, target) {
      const row = await make(w, target);
      return { cell: { method, path: path(row.id), body }, row };
    },
    expect,
  };
}

const neverAllowed: Recipe["expect"] = (_w, caller) => (caller === "anonymous" ? 401 : "refused");

export const paymentRecipes: Record<string, Recipe> = {
  "GET /payments": {
    request: () => Promise.resolve({ cell: { method: "GET", path: "/payments/?page_size=200" } }),
    listed: (body) =>
      (body.results as { id: number; patient: number }[]).map((r) => ({
        id: r.id,
        patient: r.patient,
        owner: r.patient,
      })),
  },
  "GET /payments/{id}": on("GET", (id) => `/payments/${id}/`, (w, t) => cached(w, "payment", t, () => payment(w, t))),
  // A patient pays for their own appointment only; another's reads as a nonexistent one (422, same body).
  "POST /payments": {
    async request(w, target) {
      await withFees(w);
      const appt = target === "missing" ? { id: MISSING_ID } : await appointment(w, target);
      return {
        cell: {
          method: "POST",
          path: "/payments/",
          body: { appointment: appt.id, payment_method: "card", card_number: "4242424242424242" },
        },
      };
    },
    expect(w, caller, target) {
      if (caller === "anonymous") return 401;
      if (!w.permissions[caller].has("payments:write")) return 403;
      const mine = target !== "missing" && w.actors[caller].id === parties(w, target).patient;
      return mine ? "2xx" : "refused";
    },
  },
  "PATCH /payments/{id}": on("PATCH", (id) => `/payments/${id}/`, payment, { notes: "matrix" }),
  "PUT /payments/{id}": on("PUT", (id) => `/payments/${id}/`, payment, { notes: "matrix", amount: 5000 }),
  "DELETE /payments/{id}": on("DELETE", (id) => `/payments/${id}/`, payment, undefined, neverAllowed),
  "POST /payments/{id}/refunds": on("POST", (id) => `/payments/${id}/refunds/`, payment, { amount: 100 }),

  "GET /integrationlogs": { request: () => Promise.resolve({ cell: { method: "GET", path: "/integrationlogs/" } }) },
  "GET /integrationlogs/{id}": on(
    "GET",
    (id) => `/integrationlogs/${id}/`,
    (w, t) => cached(w, "ilog", t, () => logEntry(w, t)),
  ),
  "POST /integrationlogs": {
    request: () =>
      Promise.resolve({
        cell: {
          method: "POST",
          path: "/integrationlogs/",
          body: { system_name: "lab-gateway", data_type: "result", sync_status: "success" },
        },
      }),
  },
  "PUT /integrationlogs/{id}": on("PUT", (id) => `/integrationlogs/${id}/`, logEntry, undefined, neverAllowed),
  "PATCH /integrationlogs/{id}": on("PATCH", (id) => `/integrationlogs/${id}/`, logEntry, undefined, neverAllowed),
  "DELETE /integrationlogs/{id}": on("DELETE", (id) => `/integrationlogs/${id}/`, logEntry, undefined, neverAllowed),
};
