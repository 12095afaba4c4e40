/**
 * The authorization matrix: every declared route × every kind of caller × {own row, another's
 * row, a nonexistent id}. Expectations come from the route's declaration (permission, scope)
 * and the caller's relation to the row; a recipe per route says how to build the request.
 */
import type { PolicyName } from "../../db/policies.ts";
import { rolePermissions, roles } from "../../db/schema.ts";
import { anyPermissions, requiredPermissions } from "../../middleware/access.ts";
import type { Access, DeclaredRoute } from "../../routes/_route.ts";
import { BUILTIN_ROLES, type Permission } from "../../services/permissions.ts";
import type { Actor, TestApp } from "../_fixtures.ts";
import { putUnderCare } from "../_care.ts";

/**
 * `careDoctor` is the doctor of the owner's appointments (and so of their other records); `colleague`
 * has the owner under care through an appointment of their own, so "the doctor's own appointments"
 * and "patients under their care" are told apart.
 */
export const CALLERS = [
  "anonymous",
  "owner",
  "otherPatient",
  "careDoctor",
  "colleague",
  "otherDoctor",
  "admin",
  "custom",
] as const;
export type Caller = typeof CALLERS[number];
export const TARGETS = ["own", "another", "missing"] as const;
export type Target = typeof TARGETS[number];
export const MISSING_ID = 999999;

/** The custom role an admin would create: billing staff. */
export const CUSTOM_ROLE: { name: string; permissions: Permission[] } = {
  name: "billing",
  permissions: ["payments:read", "payments:read:any", "payments:refund"],
};

export interface World {
  api: TestApp;
  /** Not a caller: the doctor who has the other patient under care. */
  thirdDoctor: Actor;
  cache: Map<string, TargetRow>;
  actors: Record<Exclude<Caller, "anonymous">, Actor>;
  tokens: Record<Exclude<Caller, "anonymous">, string>;
  permissions: Record<Caller, Set<string>>;
}

export async function buildWorld(api: TestApp): Promise<World> {
  const actors = {
    owner: await api.makePatient(),
    otherPatient: await api.makePatient(),
    careDoctor: await api.makeDoctor(),
    colleague: await api.makeDoctor(),
    otherDoctor: await api.makeDoctor(),
    admin: await api.makeAdmin(),
    custom: await api.makeUser([]),
  };
  const [role] = await api.db.insert(roles).values({ roleName: CUSTOM_ROLE.name, description: "Billing staff" })
    .returning();
  await api.db.insert(rolePermissions).values(
    CUSTOM_ROLE.permissions.map((permission) => ({ roleId: role.id, permission })),
  );
  await api.database.ownerQuery(`insert into user_roles (user_id, role_id) values (${actors.custom.id}, ${role.id})`);
  await putUnderCare(api, actors.careDoctor, actors.owner);
  await putUnderCare(api, actors.colleague, actors.owner);
  const thirdDoctor = await api.makeDoctor();
  await putUnderCare(api, thirdDoctor, actors.otherPatient);
  const tokens = Object.fromEntries(
    await Promise.all(Object.entries(actors).map(async ([k, a]) => [k, (await api.signIn(a)).access])),
  ) as World["tokens"];
  const grant = (names: string[]) =>
    new Set(names.flatMap((n) => (BUILTIN_ROLES as Record<string, { permissions: string[] }>)[n]?.permissions ?? []));
  const permissions: World["permissions"] = {
    anonymous: new Set(),
    owner: grant(["patient"]),
    otherPatient: grant(["patient"]),
    careDoctor: grant(["doctor"]),
    colleague: grant(["doctor"]),
    otherDoctor: grant(["doctor"]),
    admin: grant(["admin"]),
    custom: new Set(CUSTOM_ROLE.permissions),
  };
  return { api, thirdDoctor, cache: new Map(), actors, tokens, permissions };
}

/** A target row: who owns it, which patient's record it is part of, its doctor, and whether released. */
export interface TargetRow {
  id: number | string;
  owner?: number;
  patient?: number;
  doctor?: number;
  /** Lab results: final or corrected (a patient sees their own only then). */
  released?: boolean;
  /** Messages: the sender and the receiver. */
  parties?: number[];
  /** Doctors: the account is suspended or deactivated (out of the directory). */
  inactive?: boolean;
}

export interface Cell {
  method: string;
  path: string;
  body?: unknown;
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
  /** A token to use instead of the caller's usual one (e.g. a fresh session to sign out). */
  token?: string;
}

export type Outcome = "2xx" | 401 | 403 | 404 | "refused";

export interface Recipe {
  /** Builds the request; may create rows it needs (each cell gets fresh rows where it mutates). */
  request(w: World, target: Target, caller: Caller): Promise<{ cell: Cell; row?: TargetRow }>;
  /** Overrides the generic expectation (business rules beyond permission and scope). */
  expect?(w: World, caller: Caller, target: Target, row: TargetRow | undefined): Outcome | Outcome[] | undefined;
  /** For lists: the returned rows as target rows (patient, owner, doctor), to check the filtering. */
  listed?(body: Record<string, unknown>): TargetRow[];
}

export function idOf(w: World, caller: Caller): number | undefined {
  return caller === "anonymous" ? undefined : w.actors[caller].id;
}

export function underCare(w: World, doctorId: number | undefined, patientId: number | undefined): boolean {
  if (doctorId === undefined || patientId === undefined) return false;
  const carers = [w.actors.careDoctor.id, w.actors.colleague.id];
  return carers.includes(doctorId) && patientId === w.actors.owner.id;
}

/**
 * What each policy means, written again independently of its SQL: the matrix expects what the
 * declared policy says, so a route whose query runs another predicate fails here.
 */
export const POLICY_MODELS: Record<PolicyName, (w: World, me: number, row: TargetRow) => boolean> = {
  all: () => true,
  "users:self": (_w, me, row) => row.owner === me,
  "patients:self": (_w, me, row) => row.owner === me,
  "doctors:listed": (_w, _me, row) => row.inactive !== true,
  "doctors:self": (_w, me, row) => row.owner === me,
  "patients:care": (w, me, row) => row.patient === me || underCare(w, me, row.patient),
  "prescriptions:care": (w, me, row) => row.patient === me || underCare(w, me, row.patient),
  "labresults:care": (w, me, row) => (row.patient === me && row.released !== false) || underCare(w, me, row.patient),
  "appointments:party": (_w, me, row) => row.patient === me || row.doctor === me,
  "auditlogs:about-me": (_w, me, row) => row.patient === me,
  "notifications:self": (_w, me, row) => row.owner === me,
  "preferences:self": (_w, me, row) => row.owner === me,
  "messages:party": (_w, me, row) => row.parties?.includes(me) ?? false,
  "payments:own": (_w, me, row) => row.patient === me,
};

/** What the declaration says this caller should get on this row. */
export function expected(
  w: World,
  route: DeclaredRoute,
  caller: Caller,
  target: Target,
  row?: TargetRow,
): Outcome {
  const access: Access = route.access;
  if (access.kind === "public") return "2xx";
  if (caller === "anonymous") return 401;
  const perms = w.permissions[caller];
  const me = idOf(w, caller)!;
  const any = anyPermissions(access).some((p) => perms.has(p));
  if (access.kind === "permission" && !requiredPermissions(access).some((p) => perms.has(p)) && !any) return 403;
  if (!row) return "2xx"; // lists and creates: scope is checked on the rows returned or written
  if (target === "missing") return 404;
  if (any || !access.policy) return "2xx";
  return POLICY_MODELS[access.policy](w, me, row) ? "2xx" : 404;
}
