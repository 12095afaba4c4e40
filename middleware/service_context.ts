import type { Context } from "hono";
import type { ServiceContext } from "../services/context.ts";
import { parseRowId } from "../services/ids.ts";
import { unitOfWork } from "../services/unit_of_work.ts";
import type { AppEnv } from "./env.ts";

export interface ContextOptions {
  /** For an idempotent create: the response kept with its Idempotency-Key (the route's view of the result). */
  respond?: (result: never) => unknown;
  /** Its status (201 unless said). */
  status?: number;
}

/** The plain context a service is given for this request: caller, origin, scope, and a unit of work. */
export function contextOf(c: Context<AppEnv>, options: ContextOptions = {}): ServiceContext {
  const deps = c.get("deps");
  const actor = c.get("principal") ?? null;
  const claim = c.get("idempotency");
  const uow = unitOfWork({
    db: deps.db,
    actor,
    origin: c.get("origin"),
    clock: deps.clock,
    logger: deps.logger,
    audit: c.get("audit"),
    targetId: parseRowId(c.req.param("id")),
    request: { method: c.req.method, route: c.req.routePath },
    via: c.get("via"),
    onRecorded: () => c.set("audited", true),
    idempotency: claim && {
      claim,
      waitMs: deps.config.IDEMPOTENCY_WAIT_MS,
      respond: options.respond as ((result: unknown) => unknown) | undefined,
      status: options.status,
    },
  });
  return {
    deps,
    actor,
    origin: c.get("origin"),
    now: deps.clock(),
    scope: c.get("scope"),
    uow,
    idempotencyKey: claim?.key,
  };
}
