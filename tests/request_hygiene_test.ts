import { assert, assertEquals, assertMatch } from "@std/assert";
import { declaredRoutes } from "../routes/_route.ts";
import { appTest } from "./_fixtures.ts";

const PROBLEM = "application/problem+json";

appTest("malformed JSON is 400, wrong types 422 with a pointer per field, both problem+json", async (t, api) => {
  await t.step("malformed", async () => {
    const res = await api.request("POST", "/token/", {
      raw: '{"username": "a",',
      headers: { "content-type": "application/json" },
    });
    assertEquals([res.status, res.headers.get("content-type")], [400, PROBLEM]);
    assertEquals(Object.keys(res.body).sort(), ["detail", "request_id", "status", "title", "type"]);
  });
  await t.step("wrong types and unknown fields", async () => {
    const res = await api.request("POST", "/register/", {
      body: { username: 7, email: ["x"], password: null, admin: true },
    });
    assertEquals([res.status, res.headers.get("content-type")], [422, PROBLEM]);
    const pointers = (res.body.errors as { pointer: string }[]).map((e) => e.pointer).sort();
    assertEquals(pointers, ["/admin", "/email", "/password", "/username"]);
  });
  await t.step("a JSON value that is not an object", async () => {
    for (const raw of ["[]", "null", "42", '"text"']) {
      const res = await api.request("POST", "/token/", { raw, headers: { "content-type": "application/json" } });
      assertEquals(res.status, 422, raw);
    }
  });
});

appTest("an oversized body is 413 and a non-JSON body 415, both problem+json", async (_t, api) => {
  const big = JSON.stringify({ username: "a", password: "x".repeat(1024 * 1024) });
  const tooLarge = await api.request("POST", "/token/", { raw: big, headers: { "content-type": "application/json" } });
  assertEquals([tooLarge.status, tooLarge.headers.get("content-type")], [413, PROBLEM]);
  for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
    const res = await api.request("POST", "/token/", {
      raw: "username=a&password=b",
      headers: { "content-type": type },
    });
    assertEquals([res.status, res.headers.get("content-type")], [415, PROBLEM], type);
  }
});

appTest("X-Request-Id is always the server's own UUID, and appears in problems", async (_t, api) => {
  const mine = await api.request("GET", "/health", { headers: { "x-request-id": "trace-abc.123" } });
  assertMatch(mine.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  const bad = await api.request("GET", "/nope", { headers: { "x-request-id": "<script>" } });
  assertMatch(bad.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  assertEquals(bad.body.request_id, bad.headers.get("x-request-id"));
  assertEquals([bad.status, bad.body.type], [404, "urn:problem-type:patient-portal:not-found"]);
});

appTest("a method the path does not offer is 405 with Allow", async (_t, api) => {
  for (const path of ["/token/", "/token"]) {
    const res = await api.request("GET", path);
    assertEquals([res.status, res.headers.get("allow"), res.body.type], [
      405,
      "POST",
      "urn:problem-type:patient-portal:method-not-allowed",
    ]);
  }
  assertEquals((await api.request("DELETE", "/me/")).status, 405);
  assertEquals((await api.request("GET", "/no-such-thing/")).status, 404);
});

appTest("paths work with and without the trailing slash", async (_t, api) => {
  const alice = await api.makePatient();
  for (const path of ["/token/", "/token"]) {
    assertEquals(
      (await api.request("POST", path, { body: { username: alice.username, password: alice.password } })).status,
      200,
    );
  }
  assertEquals((await api.request("GET", "/health/")).status, 200);
});

/** Bodies a careless or hostile client might send; none may produce a 5xx. */
const NASTY_BODIES: [string, string][] = [
  ["application/json", ""],
  ["application/json", "{"],
  ["application/json", "\u0000\u0001"],
  ["application/json", '{"username": "\\ud800", "password": "\\u0000"}'],
  ["application/json", '{"email": "a@b.c", "username": {"$ne": null}, "password": []}'],
  ["application/json", '{"refresh": "' + "9".repeat(5000) + '"}'],
  ["application/json", '{"token": 1e309, "new_password": true}'],
  ["application/json", '{"__proto__": {"admin": true}, "constructor": {"prototype": {}}}'],
  ["application/json", JSON.stringify({ username: "' OR 1=1 --", password: "x'; drop table users; --" })],
  ["application/json", JSON.stringify({ email: "a".repeat(300) + "@example.test" })],
  ["application/json; charset=latin1", '{"username": "\u00e9"}'],
  ["text/xml", "<a/>"],
  ["", "plain"],
];

appTest("no input to any route produces a 5xx", async (_t, api) => {
  const alice = await api.makePatient();
  const { access } = await api.signIn(alice);
  let requests = 0;
  for (const route of declaredRoutes) {
    const path = route.path.replace(/\{[^}]+\}/g, "1");
    const methods = [route.method.toUpperCase(), "PUT", "PATCH", "DELETE"];
    for (const method of methods) {
      for (const token of [undefined, access, "garbage"]) {
        for (const [type, raw] of NASTY_BODIES) {
          const headers: Record<string, string> = type ? { "content-type": type } : {};
          const res = await api.request(method, path, { raw: method === "GET" ? undefined : raw, headers, token });
          requests++;
          assert(res.status < 500, `${method} ${path} (${type}: ${raw.slice(0, 40)}) gave ${res.status}: ${res.text}`);
          if (res.status >= 400) assertEquals(res.headers.get("content-type"), PROBLEM, `${method} ${path}`);
        }
      }
    }
  }
  assert(requests > 500, `sent ${requests} requests`);
});
