/**
 * Patient and doctor profiles: one profile per user, whose `id` is the user's. The two differ in
 * their fields, their policy and whether reading them is a read of health data; the operations
 * are the same, written once here.
 */
import type { SQL } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import type { PolicyOf } from "../db/policies.ts";
import type { InScope, Scope } from "../db/scope.ts";
import { invalid, NotFound } from "../errors.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";
import { keyset, type Ordering, type PageRequest, type Slice } from "./pagination.ts";

type Table = "patient_profiles" | "doctor_profiles";
type ProfileScope<T extends Table> = Scope<PolicyOf<T>>;

/** How one kind of profile is stored; `ListRow` is what its list reads (a hot list may skip drizzle's mapping). */
export interface ProfileStore<
  T extends Table,
  Row extends { userId: number },
  Values,
  Filters,
  ListRow extends { userId: number } = Row,
> {
  table: T;
  role: "patient" | "doctor";
  /** Reading it is a read of health data (patients), or of a directory (doctors). */
  audited: boolean;
  orderings: Record<string, Ordering<ListRow>>;
  id: { column: Ordering<ListRow>["column"]; value(row: ListRow): number };
  list(
    db: Database,
    scope: ProfileScope<T>,
    query: Filters & { where?: SQL; orderBy: SQL[]; limit: number },
  ): Promise<ListRow[]>;
  find(
    db: Database,
    scope: ProfileScope<T>,
    id: number,
    options?: { lock?: boolean },
  ): Promise<InScope<Row> | undefined>;
  insert(db: Database, userId: number, values: Values, now: Date): Promise<Row | undefined>;
  update(db: Database, row: InScope<Row>, values: Values, now: Date): Promise<Row>;
  remove(db: Database, row: InScope<Row>): Promise<void>;
}

/** The patients whose record a profile is: a patient's own; a doctor's, none. */
function patientsOf<T extends Table>(store: { table: T }, id: number): number[] {
  return store.table === "patient_profiles" ? [id] : [];
}

export function listProfiles<
  T extends Table,
  Row extends { userId: number },
  Values,
  Filters,
  ListRow extends { userId: number },
>(
  ctx: ServiceContext,
  store: ProfileStore<T, Row, Values, Filters, ListRow>,
  filters: Filters,
  page: PageRequest,
): Promise<Slice<ListRow>> {
  const scope = scopeOf(ctx, store.table);
  const pager = keyset(page, store.orderings, store.id, ctx.deps.tokens.keys.cursorKey);
  const run = async (db: Database) => pager.slice(await store.list(db, scope, { ...filters, ...pager }));
  if (!store.audited) return run(ctx.deps.db);
  return ctx.uow.read(async (db) => {
    const slice = await run(db);
    const ids = slice.rows.map((r) => r.userId);
    return { result: slice, rowIds: ids, patientIds: ids.flatMap((id) => patientsOf(store, id)) };
  });
}

export async function readProfile<T extends Table, Row extends { userId: number }, Values, Filters>(
  ctx: ServiceContext,
  store: ProfileStore<T, Row, Values, Filters, { userId: number }>,
  id: number,
): Promise<Row> {
  const scope = scopeOf(ctx, store.table);
  const find = async (db: Database) => {
    const found = await store.find(db, scope, id);
    if (!found) throw new NotFound();
    return found;
  };
  if (!store.audited) return await find(ctx.deps.db);
  return await ctx.uow.read(async (db) => ({
    result: await find(db),
    rowIds: [id],
    patientIds: patientsOf(store, id),
  }));
}

/**
 * A user holding the role creates their own profile (`user` omitted or their own id); an
 * administrator (the `:any` permission) creates one for anyone. One per user (a second is 409).
 */
export function createProfile<T extends Table, Row extends { userId: number }, Values, Filters>(
  ctx: ServiceContext,
  store: ProfileStore<T, Row, Values, Filters, { userId: number }>,
  requested: number | undefined,
  values: Values,
): Promise<Row> {
  const me = actorOf(ctx).userId;
  const scope = scopeOf(ctx, store.table);
  return ctx.uow.write(async (tx) => {
    const owner = requested ?? me;
    if (owner !== me && !scope.unrestricted) throw invalid("/user", "Must be your own user id");
    const created = await store.insert(tx, owner, values, ctx.now);
    if (!created) throw invalid("/user", `Not a ${store.role}`, `The user does not hold the ${store.role} role`);
    return { result: created, rowIds: [owner], patientIds: patientsOf(store, owner) };
  });
}

/** PUT and PATCH: the editable fields; `user` may be echoed but never changed. */
export function changeProfile<T extends Table, Row extends { userId: number }, Values, Filters>(
  ctx: ServiceContext,
  store: ProfileStore<T, Row, Values, Filters, { userId: number }>,
  id: number,
  requested: number | undefined,
  values: Values,
): Promise<Row> {
  const scope = scopeOf(ctx, store.table);
  return ctx.uow.write(async (tx) => {
    if (requested !== undefined && requested !== id) throw invalid("/user", "Cannot be changed");
    const current = await store.find(tx, scope, id, { lock: true });
    if (!current) throw new NotFound();
    const updated = await store.update(tx, current, values, ctx.now);
    return { result: updated, rowIds: [id], patientIds: patientsOf(store, id) };
  }, { details: { fields: Object.keys(values as object) } });
}

export function deleteProfile<T extends Table, Row extends { userId: number }, Values, Filters>(
  ctx: ServiceContext,
  store: ProfileStore<T, Row, Values, Filters, { userId: number }>,
  id: number,
): Promise<void> {
  const scope = scopeOf(ctx, store.table);
  return ctx.uow.write(async (tx) => {
    const current = await store.find(tx, scope, id, { lock: true });
    if (!current) throw new NotFound();
    await store.remove(tx, current);
    return { result: undefined, rowIds: [id], patientIds: patientsOf(store, id) };
  });
}
