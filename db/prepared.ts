import type { Database } from "./database.ts";

/** What preparedFor reads of drizzle's session and prepared query (the same on all three drivers). */
interface Session {
  client: unknown;
  /** One object per `drizzle()` call, handed on to each of its transactions' sessions. */
  options: object;
}

/**
 * A statement drizzle builds once per database and afterwards only fills in. Building a query (its
 * SQL text, from the column objects) cost about a third of a one-row read's CPU, every request.
 * `build` gets the database and marks what changes per call with `sql.placeholder(name)`.
 *
 * A transaction is a database of its own to drizzle, with its own driver client (the connection it
 * holds). The statement is built once per database all the same, and run in a transaction as a
 * copy that sends through that transaction's client: a prepared query of each driver keeps the
 * client it sends through as `client`, and the rest (the SQL, its fields, the logger) is the
 * database's, shared by its transactions.
 */
export function preparedFor<P extends object>(build: (db: Database) => P): (db: Database) => P {
  const built = new WeakMap<object, P>();
  return (db) => {
    const session = sessionOf(db);
    let statement = built.get(session.options);
    if (statement === undefined) built.set(session.options, statement = build(db));
    const own = statement as P & { client: unknown };
    if (own.client === session.client) return statement;
    return Object.assign(Object.create(Object.getPrototypeOf(statement)), statement, {
      client: session.client,
      ...ownQueryConfigs(statement),
    });
  };
}

/**
 * node-postgres (under the Neon driver) keeps a call's callback in the query config object it is
 * given, and a later call without one (a transaction's client answers with a promise) would run
 * that stale callback instead of resolving. A copy gets configs of its own, without a callback.
 */
function ownQueryConfigs(statement: object): Record<string, unknown> {
  const configs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(statement)) {
    if (value && typeof value === "object" && typeof (value as { text?: unknown }).text === "string") {
      configs[key] = { ...value, callback: undefined };
    }
  }
  return configs;
}

function sessionOf(db: Database): Session {
  const session = (db as unknown as { session?: Partial<Session> }).session;
  if (!session?.client || !session.options) throw new Error("preparedFor: not a drizzle database");
  return session as Session;
}
