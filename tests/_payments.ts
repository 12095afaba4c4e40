/** Fixtures for payment tests: an appointment with a fee to pay, and what changed in the tables. */
import { count, eq } from "drizzle-orm";
import { appointments, doctorProfiles, integrationLogs, outbox, payments } from "../db/schema.ts";
import { type Actor, DRIVER, makeTestApp, type TestApp } from "./_fixtures.ts";

let slot = 0;

/** A patient with an appointment of a doctor whose fee is `fee` minor units of `currency`, both signed in. */
export async function payable(api: TestApp, fee = 5000, currency = "USD") {
  const [patient, doctor] = [await api.makePatient(), await api.makeDoctor()];
  await api.db.update(doctorProfiles).set({ consultationFee: fee, currency }).where(
    eq(doctorProfiles.userId, doctor.id),
  );
  const appointment = await appointmentOf(api, patient, doctor);
  const token = (await api.signIn(patient)).access;
  return { patient, doctor, appointment, token };
}

export async function appointmentOf(api: TestApp, patient: Actor, doctor: Actor, status = "scheduled") {
  const start = new Date(Date.UTC(2033, 0, 1) + ++slot * 3 * 3600_000 + Math.floor(Math.random() * 1e5) * 86400_000);
  const [row] = await api.db.insert(appointments).values({
    patientId: patient.id,
    doctorId: doctor.id,
    appointmentDate: start,
    durationMinutes: 30,
    endsAt: new Date(start.getTime() + 30 * 60_000),
    status,
  }).returning();
  return row.id;
}

export async function paymentRows(api: TestApp) {
  return await api.db.select().from(payments).orderBy(payments.id);
}

export async function outboxTopics(api: TestApp): Promise<string[]> {
  return (await api.db.select().from(outbox).orderBy(outbox.id)).map((e) => e.topic).filter((t) =>
    t.startsWith("payment.")
  );
}

export async function logCount(api: TestApp): Promise<number> {
  return (await api.db.select({ n: count() }).from(integrationLogs))[0].n;
}

/** Every integration-log row, as one text (to search it for secrets). */
export async function allLogText(api: TestApp): Promise<string> {
  return JSON.stringify(await api.db.select().from(integrationLogs));
}

/**
 * A test against a provider's local server, over real HTTP both ways: the provider's server
 * (started first, on the app's clock), the app configured for it and served on its own port
 * (`appUrl`, where the provider posts its webhooks), both closed afterwards.
 */
export function providerTest<S extends { url: string; close(): Promise<void> }>(
  name: string,
  start: (clock: () => Date) => S,
  env: (server: S) => Record<string, string>,
  fn: (t: Deno.TestContext, api: TestApp, server: S, appUrl: string) => Promise<void>,
) {
  Deno.test({
    name: `${name} [${DRIVER}]`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      let api: TestApp | undefined;
      const server = start(() => api?.clock.now() ?? new Date());
      const http = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        (
          req,
          info,
        ) => (api ? api.app.fetch(req, { remoteAddr: info.remoteAddr }) : new Response(null, { status: 503 })),
      );
      const appUrl = `http://127.0.0.1:${http.addr.port}`;
      try {
        api = await makeTestApp({ env: { PUBLIC_URL: appUrl, ...env(server) } });
        await fn(t, api, server, appUrl);
      } finally {
        await api?.deps.background.settle();
        await http.shutdown();
        await server.close();
        await api?.database.dispose();
        if (api) await Deno.remove(api.deps.config.DATA_DIR, { recursive: true }).catch(() => {});
      }
    },
  });
}
