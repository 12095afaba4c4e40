/** The access rules of the API routes the console's pages mirror (the test compares them with the API's). */
import type { PageAccess } from "./page.ts";

export const USERS_READ = {
  kind: "signed-in",
  policy: "users:self",
  any: "users:read:any",
} as const satisfies PageAccess;
export const USERS_CHANGE = {
  kind: "signed-in",
  policy: "users:self",
  any: "users:write:any",
} as const satisfies PageAccess;
export const USERS_ADMIN = {
  kind: "permission",
  permission: "users:write:any",
  policy: "all",
} as const satisfies PageAccess;
export const USERROLES_WRITE = {
  kind: "permission",
  permission: "userroles:write",
  policy: "all",
} as const satisfies PageAccess;
export const LABRESULTS_READ = {
  kind: "permission",
  permission: "labresults:read",
  any: "labresults:read:any",
  policy: "labresults:care",
} as const satisfies PageAccess;
export const PAYMENTS_READ = {
  kind: "permission",
  permission: "payments:read",
  any: "payments:read:any",
  policy: "payments:own",
} as const satisfies PageAccess;
export const PAYMENTS_REFUND = {
  kind: "permission",
  permission: "payments:refund",
  policy: "all",
} as const satisfies PageAccess;
export const AUDIT_READ = {
  kind: "permission",
  permission: "auditlogs:read",
  policy: "all",
} as const satisfies PageAccess;
export const DOCTORS_READ = {
  kind: "signed-in",
  policy: "doctors:listed",
  any: "doctors:write:any",
} as const satisfies PageAccess;
export const DOCTORS_WRITE = {
  kind: "permission",
  permission: "doctors:write",
  any: "doctors:write:any",
  policy: "doctors:self",
} as const satisfies PageAccess;
export const APPOINTMENTS_READ = {
  kind: "permission",
  permission: "appointments:read",
  any: "appointments:read:any",
  policy: "appointments:party",
} as const satisfies PageAccess;
export const APPOINTMENTS_WRITE = {
  kind: "permission",
  permission: "appointments:write",
  any: "appointments:write:any",
  policy: "appointments:party",
} as const satisfies PageAccess;
export const ROLES_READ = { kind: "signed-in", policy: "all" } as const satisfies PageAccess;
export const ROLES_WRITE = {
  kind: "permission",
  permission: "roles:write",
  policy: "all",
} as const satisfies PageAccess;
export const INTEGRATIONLOGS_READ = {
  kind: "permission",
  permission: "integrationlogs:read",
  policy: "all",
} as const satisfies PageAccess;
