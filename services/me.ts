/** The caller's own account and who has looked at their record. */
import { type AccessLogRow, AUDIT_LOG_ID, AUDIT_LOG_ORDERINGS, listAccessLog } from "../db/audit_logs.ts";
import { ownAccount, profileOf, rolesAndPermissions } from "../db/users.ts";
import { NotFound } from "../errors.ts";
import { actorOf, scopeOf, type ServiceContext } from "./context.ts";
import { keyset, type PageRequest, type Slice } from "./pagination.ts";

export type { AccessLogRow };

/** The caller's account, roles, permissions and profile; recorded as a read of their own record. */
export function myAccount(ctx: ServiceContext) {
  const { userId } = actorOf(ctx);
  return ctx.uow.read(async (db) => {
    const user = await ownAccount(db, userId);
    if (!user) throw new NotFound();
    const { roles, permissions } = await rolesAndPermissions(db, userId);
    const profile = await profileOf(db, userId);
    const result = { user, roles, permissions, profile };
    return { result, rowIds: [userId], patientIds: profile?.kind === "patient" ? [userId] : [] };
  });
}

/** Events whose patients include the caller, newest first (recorded like any read of their record). */
export function myAccessLog(ctx: ServiceContext, page: PageRequest): Promise<Slice<AccessLogRow>> {
  const { userId } = actorOf(ctx);
  const scope = scopeOf(ctx, "audit_logs");
  const pager = keyset<AccessLogRow>(
    { ...page, ordering: "-event_timestamp" },
    AUDIT_LOG_ORDERINGS,
    AUDIT_LOG_ID,
    ctx.deps.tokens.keys.cursorKey,
  );
  return ctx.uow.read(async (db) => {
    const slice = pager.slice(await listAccessLog(db, scope, pager));
    return { result: slice, rowIds: slice.rows.map((r) => r.id), patientIds: [userId] };
  });
}
