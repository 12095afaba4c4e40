/**
 * Integration logs: written by the system for every exchange with an outside system (through the
 * unit of work's `effects.log`), read by holders of `integrationlogs:read`, appended to by
 * holders of `integrationlogs:write` (an exchange the system did not see), never edited.
 */
import {
  appendIntegrationLog,
  findIntegrationLog,
  INTEGRATION_LOG_ID,
  INTEGRATION_LOG_ORDERINGS,
  type IntegrationLogEntry,
  type IntegrationLogFilters,
  type IntegrationLogRow,
  listIntegrationLogs,
} from "../db/integration_logs.ts";
import { NotAllowed, NotFound } from "../errors.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";
import { keyset, type PageRequest, type Slice } from "./pagination.ts";

export type { IntegrationLogRow };

export function listEntries(
  ctx: ServiceContext,
  filters: IntegrationLogFilters,
  page: PageRequest,
): Promise<Slice<IntegrationLogRow>> {
  const scope = scopeOf(ctx, "integration_logs");
  const pager = keyset(page, INTEGRATION_LOG_ORDERINGS, INTEGRATION_LOG_ID, ctx.deps.tokens.keys.cursorKey);
  return ctx.uow.read(async (db) => {
    const slice = pager.slice(await listIntegrationLogs(db, scope, filters, pager));
    return { result: slice, rowIds: slice.rows.map((r) => r.id) };
  });
}

export function readEntry(ctx: ServiceContext, id: number): Promise<IntegrationLogRow> {
  const scope = scopeOf(ctx, "integration_logs");
  return ctx.uow.read(async (db) => {
    const found = await findIntegrationLog(db, scope, id);
    if (!found) throw new NotFound();
    return { result: found, rowIds: [id] };
  });
}

/** An administrator's entry: kept with who appended it, so a reader tells it from the system's own. */
export function appendEntry(ctx: ServiceContext, entry: IntegrationLogEntry): Promise<IntegrationLogRow> {
  const by = actorOf(ctx).userId;
  return ctx.uow.write(async (tx) => {
    const row = await appendIntegrationLog(tx, entry, by, ctx.now);
    return { result: row, rowIds: [row.id] };
  });
}

/** PUT, PATCH and DELETE: refused for everyone (the log is append-only), and the attempt recorded. */
export function refuseChange(ctx: ServiceContext): Promise<never> {
  return ctx.uow.check(() => Promise.reject(new NotAllowed("Integration logs are append-only", ["GET"])));
}
