/**
 * Fuzzing from the contract: for every declared operation, bodies and query strings generated
 * from its own zod schema (valid ones, and mutated ones: wrong types, missing and extra fields,
 * huge and hostile strings, boundary numbers, malformed JSON, tampered ids), sent as each kind of
 * caller. Not one answer may be a 5xx. Seeded: `FUZZ_SEED=<seed>` replays a run;
 * `FUZZ_RUNS=<n>` sets the valid and the invalid inputs per operation (default 200 each).
 */
import { assertEquals } from "@std/assert";
import fc from "fast-check";
import type { z } from "zod";
import {
  appointments,
  integrationLogs,
  labFiles,
  labResults,
  payments,
  prescriptions,
  rolePermissions,
  roles,
  userRoles,
} from "../db/schema.ts";
import { type DeclaredRoute, declaredRoutes } from "../routes/_route.ts";
import { signAccessToken } from "../services/access_tokens.ts";
import { startSession } from "../services/sessions.ts";
import { type Actor, appTest, DRIVER, type TestApp } from "./_fixtures.ts";
import { putUnderCare } from "./_care.ts";
import { HOSTILE_IDS, type JsonSchema, mutated, queryMutated, queryValid, valid } from "./fuzz/_arbitraries.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(Deno.env.get("FUZZ_RUNS") ?? 200);
const CONCURRENCY = DRIVER === "pglite" ? 4 : 12;
const CALLERS = ["anonymous", "patient", "doctor", "admin"] as const;
type Caller = typeof CALLERS[number];

interface Input {
  kind: "valid" | "invalid";
  caller: Caller;
  method: string;
  path: string;
  body?: string;
  /** Sent as multipart/form-data instead of JSON. */
  form?: FormData;
}

interface World {
  api: TestApp;
  /** The app's own OpenAPI document: the schemas bodies and queries are generated from. */
  document: JsonSchema;
  actors: Record<Exclude<Caller, "anonymous">, Actor>;
  tokens: Record<Exclude<Caller, "anonymous">, string>;
  /** Ids of rows that exist, by the path segment they are read under. */
  ids: Record<string, number[]>;
}

appTest("fuzzing every operation from its schema: no answer is a 5xx", async (_t, api) => {
  console.log(`fuzz seed ${SEED}, ${RUNS} valid + ${RUNS} invalid inputs per operation (FUZZ_SEED=${SEED} replays)`);
  const world = await buildWorld(api);
  const operations = declaredRoutes.filter((r) => !r.path.startsWith("/docs"));
  const failures: string[] = [];
  const totals: string[] = [];
  let requests = 0;
  for (const [index, route] of operations.entries()) {
    const inputs = generate(world, route, SEED + index);
    const statuses = new Map<number, number>();
    const validCount = inputs.filter((i) => i.kind === "valid").length;
    await pool(inputs, CONCURRENCY, async (input) => {
      const res = await send(world, input);
      requests++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) {
        failures.push(
          `${input.method} ${input.path.slice(0, 120)} as ${input.caller} (${input.kind}): ${res.status} ` +
            `${res.text.slice(0, 200)} body=${String(input.body ?? "").slice(0, 300)}`,
        );
      }
    });
    const histogram = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ");
    totals.push(
      `${route.method.toUpperCase()} ${route.path}: ${validCount} valid + ${inputs.length - validCount} ` +
        `invalid → ${histogram}`,
    );
  }
  console.log(`fuzz: ${operations.length} operations, ${requests} requests\n${totals.join("\n")}`);
  assertEquals(failures.slice(0, 40), [], `5xx answers (seed ${SEED}):\n${failures.slice(0, 40).join("\n")}`);
});

async function buildWorld(api: TestApp): Promise<World> {
  const actors = {
    patient: await api.makePatient(),
    doctor: await api.makeDoctor(),
    admin: await api.makeAdmin(),
  };
  await putUnderCare(api, actors.doctor, actors.patient);
  const tokens = {
    patient: (await api.signIn(actors.patient)).access,
    doctor: (await api.signIn(actors.doctor)).access,
    admin: (await api.signIn(actors.admin)).access,
  };
  const spare = [await api.makePatient(), await api.makeDoctor(), await api.makeUser([])];
  const start = new Date(Date.now() + 30 * 86400_000);
  const [appointment] = await api.db.insert(appointments).values({
    patientId: actors.patient.id,
    doctorId: actors.doctor.id,
    appointmentDate: start,
    durationMinutes: 30,
    endsAt: new Date(start.getTime() + 30 * 60_000),
  }).returning();
  const [prescription] = await api.db.insert(prescriptions).values({
    patientId: actors.patient.id,
    doctorId: actors.doctor.id,
    medication: "Amoxicillin",
    dosage: "500 mg",
    frequency: "3/day",
  }).returning();
  const content = new TextEncoder().encode("glucose 5.2\n");
  const [file] = await api.db.insert(labFiles).values({
    name: "r.txt",
    contentType: "text/plain",
    size: content.length,
    sha256: "0".repeat(64),
    content,
  }).returning();
  const [lab] = await api.db.insert(labResults).values({
    patientId: actors.patient.id,
    physicianId: actors.doctor.id,
    testType: "glucose",
    resultValue: "5.2",
    status: "final",
    fileId: file.id,
  }).returning();
  const [payment] = await api.db.insert(payments).values({
    patientId: actors.patient.id,
    appointmentId: appointment.id,
    amount: 5000,
    currency: "USD",
    paymentMethod: "card",
    provider: "sandbox",
    status: "completed",
    providerReference: "sbx_pi_fuzz",
  }).returning();
  const [entry] = await api.db.insert(integrationLogs).values({
    systemName: "fuzz",
    dataType: "x",
    syncStatus: "success",
  })
    .returning();
  const [role] = await api.db.insert(roles).values({ roleName: "fuzz-role" }).returning();
  await api.db.insert(rolePermissions).values({ roleId: role.id, permission: "messages:read" });
  const [assignment] = await api.db.insert(userRoles).values({ userId: spare[2].id, roleId: role.id }).returning();
  const people = [actors.patient.id, actors.doctor.id, ...spare.map((s) => s.id)];
  const document = api.app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "fuzz", version: "1" } });
  return {
    api,
    document: document as JsonSchema,
    actors,
    tokens,
    ids: {
      users: spare.map((s) => s.id),
      patients: people,
      doctors: people,
      appointments: [appointment.id],
      prescriptions: [prescription.id],
      labresults: [lab.id],
      roles: [role.id],
      userroles: [assignment.id],
      auditlogs: [1, 2, 3],
      payments: [payment.id],
      integrationlogs: [entry.id],
    },
  };
}

function generate(world: World, route: DeclaredRoute, seed: number): Input[] {
  const method = route.method.toUpperCase();
  const content = (route.request?.body as { content?: Record<string, { schema: z.ZodType }> } | undefined)?.content;
  const json = content?.["application/json"]?.schema;
  const form = content?.["multipart/form-data"]?.schema;
  const query = route.request?.query as z.ZodType | undefined;
  const rng = fc.sample(fc.integer({ min: 0, max: 2 ** 30 }), { seed, numRuns: RUNS * 2 });
  const caller = (i: number) => CALLERS[i % CALLERS.length];
  const inputs: Input[] = [];
  const path = (i: number, hostile: boolean) => fillPath(world, route.path, rng[i], hostile);
  const operation = world.document.paths[route.path]?.[route.method] ?? {};
  if (json) {
    const schema = operation.requestBody.content["application/json"].schema;
    const goodBodies = validSamples(world.document, schema, json, seed);
    const badBodies = fc.sample(mutated(schema, world.document), { seed: seed + 1, numRuns: RUNS });
    for (let i = 0; i < RUNS; i++) {
      const asForm = form && i % 2 === 1;
      const body = goodBodies[i % goodBodies.length];
      inputs.push({
        kind: "valid",
        caller: caller(i),
        method,
        path: path(i, false),
        ...(asForm ? { form: multipart(body as Record<string, unknown>, rng[i]) } : { body: JSON.stringify(body) }),
      });
      const malformed = rng[RUNS + i] % 10 === 0;
      inputs.push({
        kind: "invalid",
        caller: caller(i + 1),
        method,
        path: path(RUNS + i, rng[i] % 4 === 0),
        body: malformed ? '{"unterminated": ' : JSON.stringify(badBodies[i]),
      });
    }
  } else if (query) {
    const schema = queryObject(operation.parameters ?? []);
    const good = validQueries(world.document, schema, query, seed);
    const bad = fc.sample(queryMutated(schema, world.document), { seed: seed + 1, numRuns: RUNS });
    for (let i = 0; i < RUNS; i++) {
      inputs.push({ kind: "valid", caller: caller(i), method, path: path(i, false) + search(good[i % good.length]) });
      inputs.push({
        kind: "invalid",
        caller: caller(i + 1),
        method,
        path: path(RUNS + i, rng[i] % 3 === 0) + search(bad[i]),
      });
    }
  } else {
    for (let i = 0; i < RUNS; i++) {
      inputs.push({ kind: "valid", caller: caller(i), method, path: path(i, false) });
      const junk = rng[i] % 2 === 0 ? "" : `?${encodeURIComponent(HOSTILE_IDS[rng[i] % HOSTILE_IDS.length])}=1`;
      inputs.push({ kind: "invalid", caller: caller(i + 1), method, path: path(RUNS + i, true) + junk });
    }
  }
  return inputs;
}

/** The query parameters of an operation as one object schema. */
function queryObject(parameters: JsonSchema[]): JsonSchema {
  const query = parameters.filter((p) => p.in === "query");
  return {
    type: "object",
    properties: Object.fromEntries(query.map((p) => [p.name, p.schema ?? {}])),
    required: query.filter((p) => p.required).map((p) => p.name),
  };
}

/**
 * Valid bodies by the zod schema itself (refinements the JSON Schema cannot say included): the
 * generator proposes, an optional field a refinement refuses is left out, and zod decides.
 */
function validSamples(document: JsonSchema, schema: JsonSchema, zod: z.ZodType, seed: number): unknown[] {
  const resolved = schema.$ref ? resolveRef(document, schema.$ref) : schema;
  const required = new Set<string>(resolved.required ?? []);
  const repair = (v: unknown) => {
    const parsed = zod.safeParse(v);
    if (parsed.success || !v || typeof v !== "object") return v;
    const copy = { ...v as Record<string, unknown> };
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? "");
      if (key && !required.has(key)) delete copy[key];
    }
    return copy;
  };
  const proposed = fc.sample(valid(schema, document), { seed, numRuns: RUNS * 10 }).map(repair);
  const accepted = proposed.filter((v) => zod.safeParse(v).success).slice(0, RUNS);
  if (accepted.length === 0) throw new Error(`no valid body generated for ${JSON.stringify(schema).slice(0, 200)}`);
  return accepted;
}

function validQueries(document: JsonSchema, schema: JsonSchema, zod: z.ZodType, seed: number) {
  const proposed = fc.sample(queryValid(schema, document), { seed, numRuns: RUNS * 10 });
  const accepted = proposed.filter((v) => zod.safeParse(v).success).slice(0, RUNS);
  return accepted.length > 0 ? accepted : [{}];
}

function resolveRef(document: JsonSchema, ref: string): JsonSchema {
  return ref.replace(/^#\//, "").split("/").reduce((node, key) => node?.[key], document) ?? {};
}

function fillPath(world: World, template: string, pick: number, hostile: boolean): string {
  const resource = template.split("/")[1];
  const real = world.ids[resource] ?? [1];
  const id = hostile ? HOSTILE_IDS[pick % HOSTILE_IDS.length] : String(real[pick % real.length]);
  return template.replace("{id}", id).replace("{name}", hostile ? "../../deno.json" : "swagger-ui.css") + "/";
}

function search(params: Record<string, string>): string {
  const entries = Object.entries(params);
  return entries.length ? `?${new URLSearchParams(entries)}` : "";
}

/** The same fields as multipart/form-data, with a file part: text, a PNG header, or bytes of no known type. */
function multipart(fields: Record<string, unknown>, pick: number): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, typeof v === "string" ? v : JSON.stringify(v));
  const files = [
    new File(["result: 5.2 mmol/L\n"], "result.txt", { type: "text/plain" }),
    new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])], "scan.png", {
      type: "image/png",
    }),
    new File([new Uint8Array([0, 1, 2, 255, 254])], "blob.bin", { type: "application/pdf" }),
  ];
  form.append("file", files[pick % files.length]);
  return form;
}

const freshSessionRoutes = new Set(["POST /logout/"]);

async function send(world: World, input: Input) {
  const headers: Record<string, string> = {};
  let raw: string | Uint8Array | undefined = input.body;
  if (raw !== undefined) headers["content-type"] = "application/json";
  if (input.form) {
    const encoded = new Response(input.form);
    raw = new Uint8Array(await encoded.arrayBuffer());
    headers["content-type"] = encoded.headers.get("content-type")!;
  }
  let token: string | undefined;
  if (input.caller !== "anonymous") {
    token = freshSessionRoutes.has(`${input.method} ${input.path.split("?")[0]}`)
      ? await freshToken(world, world.actors[input.caller])
      : world.tokens[input.caller];
  }
  return await world.api.request(input.method, input.path, { raw, token, headers });
}

/** A new session without a password hash (sign-out operations must not end the callers' own sessions). */
async function freshToken(world: World, actor: Actor): Promise<string> {
  const { deps } = world.api;
  const session = await startSession(deps.db, actor.id, { ipAddress: null, userAgent: null }, deps.clock());
  return await signAccessToken(deps.tokens, { userId: actor.id, sessionId: session.sessionId });
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: size }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}
