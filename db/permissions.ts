/**
 * The fixed catalogue of permission codes. Routes check these, never role names.
 * A code without `:any` lets the caller act within their own scope (their own rows, or for a
 * doctor the patients under their care); `:any` lifts the scope to every row.
 */
export const PERMISSIONS = {
  "users:read:any": "Read every user account",
  "users:write:any": "Create, change and deactivate any user account",
  "roles:write": "Create, change and delete roles",
  "userroles:read": "Read role assignments",
  "userroles:write": "Assign and remove roles",
  "patients:read": "Read patient profiles in scope (own, or under care)",
  "patients:write": "Change the caller's own patient profile",
  "patients:read:any": "Read every patient profile",
  "patients:write:any": "Change any patient profile",
  "doctors:write": "Change the caller's own doctor profile",
  "doctors:write:any": "Create and change any doctor profile",
  "appointments:read": "Read appointments in scope",
  "appointments:write": "Book and change appointments in scope",
  "appointments:read:any": "Read every appointment",
  "appointments:write:any": "Book and change any appointment",
  "prescriptions:read": "Read prescriptions in scope",
  "prescriptions:write": "Write prescriptions for patients under care",
  "prescriptions:refill": "Request a refill of the caller's own prescription",
  "prescriptions:read:any": "Read every prescription",
  "prescriptions:write:any": "Change and delete any prescription",
  "labresults:read": "Read lab results in scope",
  "labresults:write": "Create lab results for patients under care",
  "labresults:read:any": "Read every lab result",
  "payments:read": "Read payments in scope",
  "payments:write": "Pay for the caller's own appointments",
  "payments:read:any": "Read every payment",
  "payments:refund": "Refund a payment",
  "notifications:write:any": "Send a notification to any user",
  "messages:read": "Read the caller's messages",
  "messages:write": "Send messages",
  "integrationlogs:read": "Read integration logs",
  "integrationlogs:write": "Append an external event to the integration logs",
  "auditlogs:read": "Read and verify the audit trail",
  "auditlogs:write": "Append an event to the audit trail",
  "admin:console": "Sign in to the admin console (/admin/); each page still needs the permission of its API route",
} as const;

export type Permission = keyof typeof PERMISSIONS;

export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export function isPermission(code: string): code is Permission {
  return Object.hasOwn(PERMISSIONS, code);
}

/** Built-in roles and the permissions they start with; they can be neither deleted nor renamed. */
export const BUILTIN_ROLES: Record<"admin" | "doctor" | "patient", { description: string; permissions: Permission[] }> =
  {
    admin: { description: "Administrators: every permission", permissions: ALL_PERMISSIONS },
    doctor: {
      description: "Doctors: their own profile, and the records of patients under their care",
      permissions: [
        "patients:read",
        "doctors:write",
        "appointments:read",
        "appointments:write",
        "prescriptions:read",
        "prescriptions:write",
        "labresults:read",
        "labresults:write",
        "messages:read",
        "messages:write",
      ],
    },
    patient: {
      description: "Patients: their own profile and records",
      permissions: [
        "patients:read",
        "patients:write",
        "appointments:read",
        "appointments:write",
        "prescriptions:read",
        "prescriptions:refill",
        "labresults:read",
        "payments:read",
        "payments:write",
        "messages:read",
        "messages:write",
      ],
    },
  };
