import type { Database } from "./database.ts";

/**
 * A statement drizzle builds once per database and afterwards only fills in. Building a query (its
 * SQL text, from the column objects) cost about a third of a one-row read's CPU, every request.
 * `build` gets the database and marks what changes per call with `sql.placeholder(name)`; a
 * transaction is a database of its own here, so it gets its own (short-lived) statement.
 */
export function preparedFor<P>(build: (db: Database) => P): (db: Database) => P {
  const built = new WeakMap<Database, P>();
  return (db) => {
    let statement = built.get(db);
    if (statement === undefined) built.set(db, statement = build(db));
    return statement;
  };
}
