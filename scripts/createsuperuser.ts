import { parseArgs } from "node:util";
import { type Config, ConfigError, loadConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import { databaseOrExplain } from "./_cli.ts";
import { sqlState } from "../db/errors.ts";
import { email as emailSchema, username as usernameSchema } from "../routes/_schemas.ts";
import { hashPassword, passwordProblem } from "../services/passwords.ts";
import { createAccount } from "../db/users.ts";

export interface SuperuserInput {
  username: string;
  email: string;
  password: string;
}

const FIELDS = ["username", "email", "password"] as const;
const USAGE = "usage: deno task createsuperuser [--username NAME] [--email ADDRESS] [--password PASSWORD]";

/** Why the input cannot make a superuser (same rules as registration), or null when it can. */
export function superuserProblem({ username, email, password }: SuperuserInput): string | null {
  const name = usernameSchema.safeParse(username);
  if (!name.success) return `username: ${name.error.issues[0].message}`;
  const address = emailSchema.safeParse(email);
  if (!address.success) return `email: ${address.error.issues[0].message}`;
  const problem = passwordProblem(password, { username, email });
  return problem ? `password: ${problem}` : null;
}

/** Creates an active user with the admin role and returns its id; throws on invalid input or a duplicate. */
export async function createSuperuser(db: Database, input: SuperuserInput): Promise<number> {
  const problem = superuserProblem(input);
  if (problem) throw new Error(problem);
  try {
    const user = await createAccount(db, {
      username: input.username,
      email: input.email,
      passwordHash: await hashPassword(input.password),
      roleNames: ["admin"],
    });
    return user.id;
  } catch (e) {
    if (sqlState(e) !== "23505") throw e;
    throw new Error(`a user with username ${input.username} or email ${input.email} already exists`);
  }
}

/** The command line: flags, then SUPERUSER_* variables, then prompts on a terminal; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let given: Partial<SuperuserInput>;
  let config: Config;
  try {
    const { values } = parseArgs({
      args,
      options: { username: { type: "string" }, email: { type: "string" }, password: { type: "string" } },
    });
    given = values;
    config = loadConfig();
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : `${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const input = await collectInput(given);
  const missing = FIELDS.filter((field) => !input[field]);
  if (missing.length > 0) {
    const flags = missing.map((m) => `--${m}`).join(" ");
    const names = missing.map((m) => `SUPERUSER_${m.toUpperCase()}`).join(" ");
    console.error(`missing ${missing.join(", ")}: pass ${flags}, set ${names}, or run on a terminal to be prompted`);
    return 2;
  }
  const problem = superuserProblem(input as SuperuserInput);
  if (problem) {
    console.error(problem);
    return 2;
  }
  const handle = await databaseOrExplain(config);
  if (!handle) return 1;
  try {
    if (handle.driver === "pglite") {
      await handle.migrate();
    }
    const id = await createSuperuser(handle.db, input as SuperuserInput);
    console.log(`superuser ${input.username} created (id ${id})`);
    return 0;
  } catch (e) {
    console.error(failure(e));
    return 1;
  } finally {
    await handle.close();
  }
}

/** Drizzle's own message repeats the query and its parameters (the password hash); the driver's does not. */
function failure(e: unknown): string {
  if (sqlState(e) === "42P01") return "the database has no tables yet; run `deno task migrate` first";
  const error = e as Error;
  return error.cause instanceof Error ? error.cause.message : error.message;
}

async function collectInput(given: Partial<SuperuserInput>): Promise<Partial<SuperuserInput>> {
  const env = (name: string) => Deno.env.get(`SUPERUSER_${name.toUpperCase()}`) || undefined;
  const input = Object.fromEntries(FIELDS.map((f) => [f, given[f] || env(f)])) as Partial<SuperuserInput>;
  if (!Deno.stdin.isTerminal()) return input;
  input.username ||= prompt("Username:")?.trim() || undefined;
  input.email ||= prompt("Email:")?.trim() || undefined;
  while (!input.password) {
    const first = await readHidden("Password: ");
    if (!first) break;
    if (first === await readHidden("Password (again): ")) input.password = first;
    else console.error("The passwords do not match; try again.");
  }
  return input;
}

/** Reads a line from the terminal without echoing it. */
async function readHidden(message: string): Promise<string> {
  await Deno.stdout.write(new TextEncoder().encode(message));
  const bytes: number[] = [];
  const byte = new Uint8Array(1);
  Deno.stdin.setRaw(true);
  try {
    while (await Deno.stdin.read(byte) === 1) {
      const b = byte[0];
      if (b === 13 || b === 10 || b === 4) break;
      if (b === 3) {
        Deno.stdin.setRaw(false);
        console.log();
        Deno.exit(130);
      }
      if (b === 127 || b === 8) {
        while (((bytes.at(-1) ?? 0) & 0xc0) === 0x80) bytes.pop();
        bytes.pop();
      } else if (b >= 32 || b === 9) bytes.push(b);
    }
  } finally {
    Deno.stdin.setRaw(false);
    console.log();
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

if (import.meta.main) Deno.exit(await main(Deno.args));
