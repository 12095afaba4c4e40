/** Doctor profiles: a directory any signed-in user reads (not audited); written through `doctors:self`. */
import * as repo from "../db/doctors.ts";
import type { ServiceContext } from "./context.ts";
import type { PageRequest } from "./pagination.ts";
import * as profiles from "./profiles.ts";

export type { DoctorRow, DoctorValues } from "../db/doctors.ts";

type Filters = { specialization?: string; search?: string };

const store = {
  table: "doctor_profiles",
  role: "doctor",
  audited: false,
  orderings: repo.DOCTOR_ORDERINGS,
  id: repo.DOCTOR_ID,
  list: repo.listDoctors,
  find: repo.findDoctor,
  insert: repo.insertDoctor,
  update: repo.updateDoctor,
  remove: repo.deleteDoctor,
} as const satisfies profiles.ProfileStore<"doctor_profiles", repo.DoctorRow, repo.DoctorValues, Filters>;

export const listDoctors = (ctx: ServiceContext, filters: Filters, page: PageRequest) =>
  profiles.listProfiles(ctx, store, filters, page);
export const readDoctor = (ctx: ServiceContext, id: number) => profiles.readProfile(ctx, store, id);
export const createDoctor = (ctx: ServiceContext, user: number | undefined, values: repo.DoctorValues) =>
  profiles.createProfile(ctx, store, user, values);
export const changeDoctor = (ctx: ServiceContext, id: number, user: number | undefined, values: repo.DoctorValues) =>
  profiles.changeProfile(ctx, store, id, user, values);
export const deleteDoctor = (ctx: ServiceContext, id: number) => profiles.deleteProfile(ctx, store, id);
