import type { Recipe, World } from "./_world.ts";
import { MISSING_ID } from "./_world.ts";

function patientOf(w: World, target: string) {
  return target === "own" ? w.actors.owner.id : target === "another" ? w.actors.otherPatient.id : MISSING_ID;
}

/** Recipes for the sign-in, profile and patient routes. */
export const coreRecipes: Record<string, Recipe> = {
  "GET /me": {
    request: () => Promise.resolve({ cell: { method: "GET", path: "/me/" } }),
  },
  "POST /logout": {
    async request(w, _target, caller) {
      if (caller === "anonymous") return { cell: { method: "POST", path: "/logout/" } };
      const { access } = await w.api.signIn(w.actors[caller]);
      return { cell: { method: "POST", path: "/logout/", token: access } };
    },
  },
  "GET /patients": {
    request: (w, target) =>
      Promise.resolve({ cell: { method: "GET", path: `/patients/?page_size=200&x=${patientOf(w, target)}` } }),
    listed: (body) => (body.results as { id: number }[]).map((r) => ({ id: r.id, patient: r.id, owner: r.id })),
  },
  "GET /patients/{id}": {
    request: (w, target) => {
      const id = patientOf(w, target);
      return Promise.resolve({
        cell: { method: "GET", path: `/patients/${id}/` },
        row: { id, owner: id, patient: id },
      });
    },
  },
  "PATCH /patients/{id}": {
    request: (w, target) => {
      const id = patientOf(w, target);
      return Promise.resolve({
        cell: { method: "PATCH", path: `/patients/${id}/`, body: { address: "matrix" } },
        row: { id, owner: id, patient: id },
      });
    },
  },
  "PUT /patients/{id}": {
    request: (w, target) => {
      const id = patientOf(w, target);
      const body = {
        first_name: "M",
        last_name: "X",
        date_of_birth: null,
        phone: null,
        address: null,
        emergency_contact: null,
        medical_history: null,
      };
      return Promise.resolve({
        cell: { method: "PUT", path: `/patients/${id}/`, body },
        row: { id, owner: id, patient: id },
      });
    },
  },
  "POST /patients": {
    async request(w, target, caller) {
      // Own: the caller's own profile (patients already have one: 409). Otherwise a fresh
      // patient-role user without a profile, which only an administrator may create for.
      if (target === "own" && (caller === "owner" || caller === "otherPatient")) {
        return { cell: { method: "POST", path: "/patients/", body: {} } };
      }
      const user = target === "missing" ? MISSING_ID : await patientWithoutProfile(w);
      return { cell: { method: "POST", path: "/patients/", body: { user } } };
    },
    expect(w, caller, target) {
      if (caller === "anonymous") return 401;
      const perms = w.permissions[caller];
      if (perms.has("patients:write:any")) return target === "missing" ? "refused" : "2xx";
      return perms.has("patients:write") ? "refused" : 403;
    },
  },
  "DELETE /patients/{id}": {
    async request(w, target) {
      const id = target === "missing" ? MISSING_ID : (await w.api.makePatient()).id;
      return { cell: { method: "DELETE", path: `/patients/${id}/` }, row: { id, owner: id, patient: id } };
    },
  },
};

async function patientWithoutProfile(w: World): Promise<number> {
  const user = await w.api.makePatient();
  await w.api.database.ownerQuery(`delete from patient_profiles where user_id = ${user.id}`);
  return user.id;
}
