/** The permission catalogue lives with the data it seeds (db/permissions.ts); services and routes read it here. */
export * from "../db/permissions.ts";
