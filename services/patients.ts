/** Patient profiles: health data, read through `patients:care`, written through `patients:self`. */
import * as repo from "../db/patients.ts";
import type { ServiceContext } from "./context.ts";
import type { PageRequest } from "./pagination.ts";
import * as profiles from "./profiles.ts";

export type { PatientListRow, PatientRow, PatientValues } from "../db/patients.ts";

const store = {
  table: "patient_profiles",
  role: "patient",
  audited: true,
  orderings: repo.PATIENT_ORDERINGS,
  id: repo.PATIENT_ID,
  list: repo.listPatients,
  find: repo.findPatient,
  insert: repo.insertPatient,
  update: repo.updatePatient,
  remove: repo.deletePatient,
} as const satisfies profiles.ProfileStore<
  "patient_profiles",
  repo.PatientRow,
  repo.PatientValues,
  { search?: string },
  repo.PatientListRow
>;

export const listPatients = (ctx: ServiceContext, filters: { search?: string }, page: PageRequest) =>
  profiles.listProfiles(ctx, store, filters, page);
export const readPatient = (ctx: ServiceContext, id: number) => profiles.readProfile(ctx, store, id);
export const createPatient = (ctx: ServiceContext, user: number | undefined, values: repo.PatientValues) =>
  profiles.createProfile(ctx, store, user, values);
export const changePatient = (ctx: ServiceContext, id: number, user: number | undefined, values: repo.PatientValues) =>
  profiles.changeProfile(ctx, store, id, user, values);
export const deletePatient = (ctx: ServiceContext, id: number) => profiles.deleteProfile(ctx, store, id);
