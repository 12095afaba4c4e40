/**
 * Accounts as an attacker would try them: costly hashing bought with bogus requests, a stolen
 * access token turned into a takeover through the e-mail address, a reset password the policy
 * would refuse elsewhere, a reset link that goes nowhere.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { eq } from "drizzle-orm";
import { users } from "../db/schema.ts";
import { hashPassword } from "../services/passwords.ts";
import { clientKey } from "../services/rate_limit.ts";
import { superuserProblem } from "../scripts/createsuperuser.ts";
import { appTest, type TestApp } from "./_fixtures.ts";

const STRONG = "a brand new passphrase 42";

async function resetTokenFromMail(api: TestApp): Promise<string> {
  const mails = await api.mails();
  const match = mails.at(-1)?.match(/[?&]token=([^\s&]+)/);
  assert(match, "a reset link was mailed");
  return decodeURIComponent(match[1]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

appTest("POST /register/ is throttled per address, checked before the password is hashed", async (_t, api) => {
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const res = await api.request("POST", "/register/", {
      body: { username: `newcomer${i}`, email: `newcomer${i}@example.test`, password: STRONG },
      ip: "198.51.100.30",
    });
    statuses.push(res.status);
  }
  assertEquals(statuses, [201, 201, 201, 429]);
  const elsewhere = await api.request("POST", "/register/", {
    body: { username: "newcomer9", email: "newcomer9@example.test", password: STRONG },
    ip: "198.51.100.31",
  });
  assertEquals(elsewhere.status, 201);
  const taken = await api.request("POST", "/register/", {
    body: { username: "NEWCOMER9", email: "other@example.test", password: STRONG },
    ip: "198.51.100.32",
  });
  assertEquals([taken.status, (taken.body.errors as { pointer: string }[])[0].pointer], [409, "/username"]);
}, { env: { RATE_LIMIT_REGISTER_PER_IP: "3" } });

appTest("POST /reset-password/ is throttled per address", async (_t, api) => {
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const token = `${crypto.randomUUID()}.${"A".repeat(43)}`;
    statuses.push(
      (await api.request("POST", "/reset-password/", { body: { token, new_password: STRONG }, ip: "198.51.100.40" }))
        .status,
    );
  }
  assertEquals(statuses, [400, 400, 400, 429]);
}, { env: { RATE_LIMIT_RESET_PER_IP: "3" } });

appTest("a bogus reset token is refused before any password is hashed", async (t, api) => {
  await t.step("a weak password with a bogus token is the token's 400, not the policy's 422", async () => {
    const token = `${crypto.randomUUID()}.${"A".repeat(43)}`;
    const res = await api.request("POST", "/reset-password/", { body: { token, new_password: "x" } });
    assertEquals([res.status, res.body.type], [400, "urn:problem-type:patient-portal:invalid-reset-token"]);
  });
  await t.step("a well-formed bogus token costs what a malformed one does, far less than one hash", async () => {
    const hashes: number[] = [];
    const wellFormed: number[] = [];
    const malformed: number[] = [];
    const timed = async (token: string) => {
      const started = performance.now();
      const res = await api.request("POST", "/reset-password/", { body: { token, new_password: STRONG } });
      assertEquals(res.status, 400);
      return performance.now() - started;
    };
    for (let i = 0; i < 15; i++) {
      const started = performance.now();
      await hashPassword(STRONG);
      hashes.push(performance.now() - started);
      wellFormed.push(await timed(`${crypto.randomUUID()}.${"B".repeat(43)}`));
      malformed.push(await timed("not-a-token"));
    }
    const extra = median(wellFormed) - median(malformed);
    console.log(
      `reset with a bogus token: ${median(wellFormed).toFixed(1)} ms (malformed ${median(malformed).toFixed(1)} ms); ` +
        `one hash ${median(hashes).toFixed(1)} ms`,
    );
    assert(extra < median(hashes) * 0.75, `a bogus token costs ${extra.toFixed(1)} ms more than a malformed one`);
  });
}, { env: { RATE_LIMIT_RESET_PER_IP: "1000" } });

appTest("a new password set by reset meets the one policy: not the username, not the address", async (_t, api) => {
  const alice = await api.makePatient({ username: "alicewonder", email: "alice.w@example.test" });
  for (const weak of ["alicewonder-2024!", "my alice.w secret", "password123"]) {
    await api.request("POST", "/forgot-password/", { body: { email: alice.email }, ip: `198.51.100.${weak.length}` });
    const token = await resetTokenFromMail(api);
    const res = await api.request("POST", "/reset-password/", { body: { token, new_password: weak } });
    assertEquals([res.status, (res.body.errors as { pointer: string }[])[0].pointer], [422, "/new_password"], weak);
    assertEquals(
      (await api.request("POST", "/reset-password/", { body: { token, new_password: STRONG } })).status,
      204,
      "the refused attempt did not spend the token",
    );
    api.clock.advance(3600);
  }
  const superuser = { username: "rootuser", email: "r@example.test", password: "rootuser-pass-99" };
  assertEquals(superuserProblem(superuser), "password: Must not contain your username or email");
});

appTest("the reset link opens RESET_URL when one is configured", async (_t, api) => {
  const alice = await api.makePatient();
  await api.request("POST", "/forgot-password/", { body: { email: alice.email } });
  const [mail] = await api.mails();
  assertMatch(mail, /https:\/\/app\.example\.org\/account\/reset\?from=mail&token=[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}\b/);
}, { env: { RESET_URL: "https://app.example.org/account/reset?from=mail" } });

appTest("GET /reset-password/ is a self-contained form that posts the token to the JSON endpoint", async (_t, api) => {
  const alice = await api.makePatient();
  await api.request("POST", "/forgot-password/", { body: { email: alice.email } });
  const [mail] = await api.mails();
  const link = mail.match(/http:\/\/localhost:8000(\/reset-password\/\?token=[^\s]+)/);
  assert(link, "the default link is the API's own page");
  const page = await api.request("GET", link[1]);
  assertEquals(page.status, 200);
  assert(page.headers.get("content-type")?.startsWith("text/html"));
  assertEquals([page.headers.get("cache-control"), page.headers.get("referrer-policy")], ["no-store", "no-referrer"]);
  assert(!/https?:\/\//.test(page.text), "no outside asset");
  assert(!page.text.includes(decodeURIComponent(link[1].split("=")[1])), "the token is not written into the page");
  const csp = page.headers.get("content-security-policy") ?? "";
  assert(!csp.includes("unsafe-inline") && csp.includes("default-src 'none'") && csp.includes("connect-src 'self'"));
  for (const [tag, directive] of [["script", "script-src"], ["style", "style-src"]]) {
    const inline = page.text.match(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`))![1];
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(inline)));
    assertStringIncludes(csp, `${directive} 'sha256-${btoa(String.fromCharCode(...digest))}'`);
  }
  assertStringIncludes(page.text, "JSON.stringify({ token, new_password: password })");
  assertStringIncludes(page.text, 'method: "POST"');
  const injected = await api.request("GET", "/reset-password/?token=%22%3E%3Cscript%3Ealert(1)%3C/script%3E");
  assert(!injected.text.includes("alert(1)"));
});

appTest("changing your own e-mail needs your current password, and the old address is told", async (t, api) => {
  const alice = await api.makePatient({ email: "alice.old@example.test" });
  const stolen = (await api.signIn(alice)).access;
  const path = `/users/${alice.id}/`;
  await t.step("a stolen access token alone cannot change it", async () => {
    for (
      const [method, body] of [
        ["PATCH", { email: "attacker@example.test" }],
        ["PUT", { email: "attacker@example.test", phone: null }],
      ] as const
    ) {
      const res = await api.request(method, path, { token: stolen, body });
      assertEquals([res.status, (res.body.errors as { pointer: string }[])[0].pointer], [422, "/current_password"]);
    }
    const wrong = await api.request("PATCH", path, {
      token: stolen,
      body: { email: "attacker@example.test", current_password: "a wrong guess 123" },
    });
    assertEquals(wrong.status, 422);
    const [row] = await api.db.select().from(users).where(eq(users.id, alice.id));
    assertEquals(row.email, "alice.old@example.test");
    assertEquals(await api.mails(), []);
  });
  await t.step("the same address again is no change and needs nothing", async () => {
    const res = await api.request("PUT", path, {
      token: stolen,
      body: { email: "ALICE.OLD@example.test", phone: null },
    });
    assertEquals(res.status, 200);
  });
  await t.step("with the current password it changes, and the old address gets a notice", async () => {
    const res = await api.request("PATCH", path, {
      token: stolen,
      body: { email: "alice.new@example.test", current_password: alice.password },
    });
    assertEquals([res.status, res.body.email], [200, "alice.new@example.test"]);
    const [notice, ...more] = await api.mails();
    assertEquals(more, []);
    assertStringIncludes(notice, "To: alice.old@example.test");
    assertStringIncludes(notice, "Subject: The e-mail address of your Patient Portal account was changed");
    assertStringIncludes(notice, "a***@example.test");
    assert(!notice.includes("alice.new@example.test"), "the new address is masked");
    assert(!/medical|prescription|appointment|diagnos/i.test(notice), "no health detail");
  });
});

appTest(
  "an administrator changes someone's e-mail without their password; the old address is told",
  async (_t, api) => {
    const [alice, admin] = [await api.makePatient(), await api.makeAdmin()];
    const token = (await api.signIn(admin)).access;
    const res = await api.request("PATCH", `/users/${alice.id}/`, { token, body: { email: "moved@example.test" } });
    assertEquals([res.status, res.body.email], [200, "moved@example.test"]);
    const [notice] = await api.mails();
    assertStringIncludes(notice, `To: ${alice.email}`);
    assertStringIncludes(notice, "by an administrator");
    const own = await api.request("PATCH", `/users/${admin.id}/`, { token, body: { email: "admin2@example.test" } });
    assertEquals(own.status, 422, "an administrator's own e-mail needs their password like anyone's");
  },
);

appTest(
  "per-address limits count an IPv6 client by its /64: rotating addresses within it does not reset them",
  async (_t, api) => {
    const statuses = [];
    for (const ip of ["2001:db8:7:1::a", "2001:db8:7:1::b", "2001:db8:7:1:ffff:1:2:3", "2001:0db8:0007:0001::c"]) {
      const n = statuses.length;
      const res = await api.request("POST", "/register/", {
        body: { username: `rotator${n}`, email: `rotator${n}@example.test`, password: STRONG },
        ip,
      });
      statuses.push(res.status);
    }
    assertEquals(statuses, [201, 201, 201, 429]);
    const neighbour = await api.request("POST", "/register/", {
      body: { username: "neighbour", email: "neighbour@example.test", password: STRONG },
      ip: "2001:db8:7:2::a",
    });
    assertEquals(neighbour.status, 201, "another /64 has its own count");
  },
  { env: { RATE_LIMIT_REGISTER_PER_IP: "3" } },
);

Deno.test("clientKey: IPv4 as is, IPv4-mapped as its IPv4, IPv6 by its /64, anything else as typed", () => {
  const cases: [string | null, string][] = [
    [null, "unknown"],
    ["198.51.100.7", "198.51.100.7"],
    ["::ffff:198.51.100.7", "198.51.100.7"],
    ["0:0:0:0:0:ffff:198.51.100.7", "198.51.100.7"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["2001:0DB8:0000:0001:aaaa:bbbb:cccc:dddd", "2001:db8:0:1::/64"],
    ["[2001:db8:1:2::3]", "2001:db8:1:2::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["not an address", "not an address"],
  ];
  for (const [address, key] of cases) assertEquals(clientKey(address), key, String(address));
});
