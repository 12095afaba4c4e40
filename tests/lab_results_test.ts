import { assert, assertEquals, assertMatch } from "@std/assert";
import { and, eq } from "drizzle-orm";
import { auditLogs, labFiles, labResults } from "../db/schema.ts";
import { attachmentDisposition, safeFileName, sha256Hex, sniffFileType } from "../services/file_types.ts";
import { type Actor, appTest, type TestApp } from "./_fixtures.ts";
import { careCircle } from "./_care.ts";

const PNG = Uint8Array.from([
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
  0,
  0,
  0,
  13,
  0x49,
  0x48,
  0x44,
  0x52,
  1,
  2,
]);
const strip = (b: Record<string, unknown>) => ({ ...b, request_id: null });
const FIELDS = { test_type: "Glucose", result_value: "5.4", unit: "mmol/L", reference_range: "3.9-5.6" };

async function record(api: TestApp, token: string, patient: Actor, status: string, extra: object = {}) {
  const res = await api.request("POST", "/labresults/", {
    token,
    body: { patient: patient.id, ...FIELDS, status, ...extra },
  });
  assertEquals(res.status, 201, res.text);
  return res.body as Record<string, unknown> & { id: number };
}

/** A multipart body: the fields as form fields, plus a `file` part with the given bytes, type and name. */
function form(fields: Record<string, string | number>, file?: { bytes: Uint8Array; type: string; name: string }) {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, String(v));
  if (file) body.append("file", new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.type }), file.name);
  // The fixture's `raw` is typed string | Uint8Array; fetch sets the multipart boundary itself.
  return body as unknown as string;
}

const counts = async (api: TestApp) => [
  (await api.db.select().from(labResults)).length,
  (await api.db.select().from(labFiles)).length,
];

appTest("POST /labresults/ with a file part stores it; the download is byte-identical and audited", async (_t, api) => {
  const { patient, doctor, tokens } = await careCircle(api);
  const bytes = new TextEncoder().encode("Glucose 5.4 mmol/L\nHbA1c 5.1 %\n");
  const res = await api.request("POST", "/labresults/", {
    token: tokens.doctor,
    raw: form({ patient: patient.id, ...FIELDS, status: "final" }, { bytes, type: "text/plain", name: "result.txt" }),
  });
  assertEquals(res.status, 201, res.text);
  const sha256 = await sha256Hex(bytes);
  assertEquals(res.body.file, { name: "result.txt", content_type: "text/plain", size: bytes.length, sha256 });
  assertEquals([res.body.physician, res.body.patient, res.body.status], [doctor.id, patient.id, "final"]);
  assert(!res.text.includes("HbA1c"), "the result never carries the bytes");

  const id = res.body.id as number;
  const png = await api.request("POST", "/labresults/", {
    token: tokens.doctor,
    raw: form({ patient: patient.id, ...FIELDS, status: "final" }, { bytes: PNG, type: "image/png", name: "scan.png" }),
  });
  assertEquals(png.status, 201, png.text);
  for (
    const [resultId, expected, type] of [[id, bytes, "text/plain; charset=utf-8"], [png.body.id, PNG, "image/png"]]
  ) {
    const dl = await api.app.request(`/labresults/${resultId}/file/`, {
      headers: { authorization: `Bearer ${tokens.patient}` },
    });
    assertEquals(dl.status, 200);
    const got = new Uint8Array(await dl.arrayBuffer());
    assertEquals(await sha256Hex(got), await sha256Hex(expected as Uint8Array));
    assertEquals(dl.headers.get("content-type"), type);
    assertEquals(dl.headers.get("x-content-type-options"), "nosniff");
    assertMatch(dl.headers.get("content-disposition") ?? "", /^attachment; filename="(result\.txt|scan\.png)"$/);
  }
  const audits = await api.db.select().from(auditLogs).where(
    and(eq(auditLogs.action, "download"), eq(auditLogs.targetTable, "lab_results")),
  );
  assertEquals(audits.map((a) => [a.targetId, a.userId, a.patientId, a.outcome]), [
    [String(id), patient.id, patient.id, "success"],
    [String(png.body.id), patient.id, patient.id, "success"],
  ]);
  const noFile = await record(api, tokens.doctor, patient, "final");
  assertEquals(noFile.file, null);
  assertEquals((await api.request("GET", `/labresults/${noFile.id}/file/`, { token: tokens.patient })).status, 404);
  assertEquals((await api.request("GET", `/labresults/${id}/file/`, { token: tokens.other })).status, 404);
});

appTest(
  "GET /labresults/{id}/file/ sends a non-ASCII name as RFC 6266 filename* and a safe fallback",
  async (_t, api) => {
    const { patient, tokens } = await careCircle(api);
    const res = await api.request("POST", "/labresults/", {
      token: tokens.doctor,
      raw: form({ patient: patient.id, ...FIELDS, status: "final" }, {
        bytes: new TextEncoder().encode("ok"),
        type: "text/plain;charset=utf-8",
        name: "..\\..\\Résultat final.txt",
      }),
    });
    assertEquals([res.status, (res.body.file as { name: string }).name], [201, "Résultat final.txt"]);
    const dl = await api.request("GET", `/labresults/${res.body.id}/file/`, { token: tokens.doctor });
    assertEquals(
      dl.headers.get("content-disposition"),
      `attachment; filename="R_sultat final.txt"; filename*=UTF-8''R%C3%A9sultat%20final.txt`,
    );
  },
);

Deno.test("file types come from the bytes; stored names and Content-Disposition are made safe", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assertEquals(sniffFileType(text("%PDF-1.4")), "application/pdf");
  assertEquals(sniffFileType(PNG), "image/png");
  assertEquals(sniffFileType(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0])), "image/jpeg");
  assertEquals(sniffFileType(text("Glucose 5.4 – ok ✓")), "text/plain");
  assertEquals(sniffFileType(text("a\u0000b")), undefined, "NUL is not text");
  assertEquals(sniffFileType(Uint8Array.from([0xc3, 0x28])), undefined, "invalid UTF-8 is not text");
  assertEquals(sniffFileType(Uint8Array.from([0x89, 0x50, 0x4e])), undefined, "a truncated signature");
  assertEquals(safeFileName("/etc/\u202Egnp.exe\r\n", "image/png"), "gnp.png");
  assertEquals(safeFileName("...", "application/pdf"), "lab-result.pdf");
  // The stored name takes the extension of the type the bytes are (issue 9, point 16).
  assertEquals(safeFileName("report.pdf.html", "text/plain"), "report.pdf.txt");
  assertEquals(safeFileName("report.html. . ", "text/plain"), "report.txt");
  assertEquals(safeFileName("scan", "image/png"), "scan.png");
  assertEquals(safeFileName("Photo.JPEG", "image/jpeg"), "Photo.JPEG");
  assertEquals(safeFileName("photo.png", "image/jpeg"), "photo.jpg");
  assertEquals(safeFileName(`${"a".repeat(300)}.pdf`, "application/pdf"), `${"a".repeat(251)}.pdf`);
  assertEquals(
    attachmentDisposition('a "b"\\c.txt'),
    `attachment; filename="a _b__c.txt"; filename*=UTF-8''a%20%22b%22%5Cc.txt`,
  );
  assertEquals(attachmentDisposition("plain.txt"), 'attachment; filename="plain.txt"');
});

appTest("an uploaded file is stored and downloaded under the extension of its sniffed type", async (_t, api) => {
  const { patient, tokens } = await careCircle(api);
  const html = new TextEncoder().encode("<html><body><script>alert(document.cookie)</script></body></html>\n");
  const upload = (bytes: Uint8Array, name: string, type = "application/octet-stream") =>
    api.request("POST", "/labresults/", {
      token: tokens.doctor,
      raw: form({ patient: patient.id, ...FIELDS, status: "final" }, { bytes, type, name }),
    });
  const cases: [Uint8Array, string, string, string][] = [
    [html, "report.pdf.html", "report.pdf.txt", "text/plain; charset=utf-8"],
    [html, "page.htm", "page.txt", "text/plain; charset=utf-8"],
    [PNG, "scan.html", "scan.png", "image/png"],
    [PNG, "scan", "scan.png", "image/png"],
  ];
  for (const [bytes, name, stored, contentType] of cases) {
    const res = await upload(bytes, name);
    assertEquals([res.status, (res.body.file as { name: string })?.name], [201, stored], res.text);
    const dl = await api.request("GET", `/labresults/${res.body.id}/file/`, { token: tokens.patient });
    assertEquals(
      [dl.status, dl.headers.get("content-disposition"), dl.headers.get("content-type")],
      [200, `attachment; filename="${stored}"`, contentType],
    );
  }
  const first = await upload(PNG, "scan.png");
  const corrected = await api.request("POST", `/labresults/${first.body.id}/corrections/`, {
    token: tokens.doctor,
    raw: form({ result_value: "5.5" }, { bytes: html, type: "text/plain", name: "fixed.pdf.html" }),
  });
  assertEquals([corrected.status, (corrected.body.file as { name: string })?.name], [201, "fixed.pdf.txt"]);
});

appTest("POST /labresults/ refuses a file whose bytes are not its declared type with 415", async (_t, api) => {
  const { patient, tokens } = await careCircle(api);
  const post = (file: { bytes: Uint8Array; type: string; name: string }) =>
    api.request("POST", "/labresults/", {
      token: tokens.doctor,
      raw: form({ patient: patient.id, ...FIELDS, status: "final" }, file),
    });
  const cases = [
    { bytes: new TextEncoder().encode("hello"), type: "image/png", name: "fake.png" },
    { bytes: PNG, type: "application/pdf", name: "fake.pdf" },
    { bytes: Uint8Array.from([0x4d, 0x5a, 0x90, 0, 3, 0]), type: "application/octet-stream", name: "a.exe" },
    { bytes: Uint8Array.from([0xc3, 0x28, 0x41]), type: "text/plain", name: "bad-utf8.txt" },
    { bytes: new TextEncoder().encode("<svg onload=alert(1)>"), type: "image/svg+xml", name: "x.svg" },
  ];
  for (const file of cases) {
    const res = await post(file);
    assertEquals([res.status, res.headers.get("content-type")], [415, "application/problem+json"], file.name);
    assertEquals((res.body.errors as { pointer: string }[])[0].pointer, "/file");
  }
  const empty = await post({ bytes: new Uint8Array(0), type: "text/plain", name: "empty.txt" });
  assertEquals([empty.status, (empty.body.errors as { pointer: string }[])[0].pointer], [422, "/file"]);
  assertEquals(await counts(api), [0, 0], "nothing was stored");
  const sniffed = await post({ bytes: PNG, type: "application/octet-stream", name: "upload" });
  assertEquals([sniffed.status, (sniffed.body.file as { content_type: string }).content_type], [201, "image/png"]);
});

appTest("POST /labresults/ refuses a file over 10 MiB and a body over 11 MiB with 413", async (_t, api) => {
  const { patient, tokens } = await careCircle(api);
  const fields = { patient: patient.id, ...FIELDS, status: "final" };
  const justOver = new Uint8Array(10 * 1024 * 1024 + 1).fill(0x61);
  const file = await api.request("POST", "/labresults/", {
    token: tokens.doctor,
    raw: form(fields, { bytes: justOver, type: "text/plain", name: "big.txt" }),
  });
  assertEquals([file.status, file.body.type], [413, "urn:problem-type:patient-portal:file-too-large"]);
  const huge = await api.request("POST", "/labresults/", {
    token: tokens.doctor,
    raw: form(fields, { bytes: new Uint8Array(11 * 1024 * 1024).fill(0x61), type: "text/plain", name: "huge.txt" }),
  });
  assertEquals([huge.status, huge.body.type], [413, "urn:problem-type:patient-portal:body-too-large"]);
  assertEquals(await counts(api), [0, 0], "nothing was stored");
  const atLimit = await api.request("POST", "/labresults/", {
    token: tokens.doctor,
    raw: form(fields, { bytes: justOver.subarray(1), type: "text/plain", name: "limit.txt" }),
  });
  assertEquals([atLimit.status, (atLimit.body.file as { size: number }).size], [201, 10 * 1024 * 1024]);
});

appTest("POST /labresults/ is for a doctor with the patient under care; physician is the caller", async (_t, api) => {
  const { patient, doctor, tokens } = await careCircle(api);
  const body = { patient: patient.id, ...FIELDS, status: "final" };
  const stranger = await api.request("POST", "/labresults/", { token: tokens.stranger, body });
  const missing = await api.request("POST", "/labresults/", {
    token: tokens.stranger,
    body: { ...body, patient: 999999 },
  });
  assertEquals([stranger.status, stranger.body.errors], [422, [{
    pointer: "/patient",
    detail: "Not a patient under your care",
  }]]);
  assertEquals(strip(stranger.body), strip(missing.body));
  const viaForm = await api.request("POST", "/labresults/", { token: tokens.stranger, raw: form(body) });
  assertEquals(viaForm.status, 422);
  const otherPhysician = await api.request("POST", "/labresults/", {
    token: tokens.doctor,
    body: { ...body, physician: doctor.id + 1 },
  });
  assertEquals([otherPhysician.status, (otherPhysician.body.errors as { pointer: string }[])[0].pointer], [
    422,
    "/physician",
  ]);
  for (
    const bad of [{ ...body, status: "corrected" }, { ...body, superseded_by: 1 }, { ...body, unit: "x".repeat(51) }]
  ) {
    assertEquals((await api.request("POST", "/labresults/", { token: tokens.doctor, body: bad })).status, 422);
  }
  assertEquals((await api.request("POST", "/labresults/", { token: tokens.patient, body })).status, 403);
  const plain = await api.request("POST", "/labresults/", {
    token: tokens.doctor,
    raw: "patient=1",
    headers: { "content-type": "text/plain" },
  });
  assertEquals(plain.status, 415);
  assertEquals(await counts(api), [0, 0], "nothing was stored");
  const ok = await api.request("POST", "/labresults/", {
    token: tokens.doctor,
    body: { ...body, physician: doctor.id },
  });
  assertEquals([ok.status, ok.body.physician], [201, doctor.id]);
});

appTest("a patient sees only their own final results: a preliminary one is 404 like a missing one", async (t, api) => {
  const { patient, other, tokens } = await careCircle(api);
  const preliminary = await record(api, tokens.doctor, patient, "preliminary");
  const final = await record(api, tokens.doctor, patient, "final");
  const othersFinal = await record(api, tokens.doctor, other, "final");
  const ids = async (token: string, query = "") => {
    const res = await api.request("GET", `/labresults/${query}`, { token });
    assertEquals(res.status, 200, res.text);
    return (res.body.results as { id: number }[]).map((r) => r.id).sort((a, b) => a - b);
  };
  await t.step("lists", async () => {
    assertEquals(await ids(tokens.patient), [final.id]);
    assertEquals(await ids(tokens.patient, "?status=preliminary"), []);
    assertEquals(await ids(tokens.doctor), [preliminary.id, final.id, othersFinal.id]);
    assertEquals(await ids(tokens.colleague), [preliminary.id, final.id], "any doctor with care sees all statuses");
    assertEquals(await ids(tokens.stranger), []);
    assertEquals(await ids(tokens.other, `?patient=${patient.id}`), []);
  });
  await t.step("reads", async () => {
    const missing = await api.request("GET", "/labresults/999999/", { token: tokens.patient });
    for (const id of [preliminary.id, othersFinal.id]) {
      const res = await api.request("GET", `/labresults/${id}/`, { token: tokens.patient });
      assertEquals(res.status, 404);
      assertEquals(strip(res.body), strip(missing.body));
    }
    assertEquals((await api.request("GET", `/labresults/${final.id}/`, { token: tokens.patient })).status, 200);
    assertEquals((await api.request("GET", `/labresults/${preliminary.id}/`, { token: tokens.doctor })).status, 200);
  });
  await t.step("a preliminary result becomes visible once its physician makes it final", async () => {
    const res = await api.request("PATCH", `/labresults/${preliminary.id}/`, {
      token: tokens.doctor,
      body: { result_value: "5.9", status: "final" },
    });
    assertEquals([res.status, res.body.result_value, res.body.status], [200, "5.9", "final"]);
    assertEquals(await ids(tokens.patient), [preliminary.id, final.id]);
  });
  await t.step("pages with cursors over equal result dates", async () => {
    const when = { result_date: "2020-03-01T08:00:00Z" };
    const same = [
      await record(api, tokens.doctor, other, "final", when),
      await record(api, tokens.doctor, other, "final", when),
    ];
    const seen: number[] = [];
    let url: string | null = `/labresults/?patient=${other.id}&page_size=1`;
    while (url) {
      const res = await api.request("GET", url.replace(/^https?:\/\/[^/]+/, ""), { token: tokens.doctor });
      assertEquals(res.status, 200, res.text);
      seen.push(...(res.body.results as { id: number }[]).map((r) => r.id));
      url = res.body.next as string | null;
    }
    assertEquals(seen, [othersFinal.id, same[1].id, same[0].id], "newest result date first, then by id");
  });
  const denied = await api.db.select().from(auditLogs).where(
    and(eq(auditLogs.outcome, "denied"), eq(auditLogs.targetTable, "lab_results"), eq(auditLogs.userId, patient.id)),
  );
  assertEquals(denied.map((d) => d.targetId).sort(), ["999999", String(othersFinal.id), String(preliminary.id)].sort());
});

appTest("PATCH /labresults/{id}/ changes a preliminary result only, and only by its physician", async (_t, api) => {
  const { patient, tokens } = await careCircle(api);
  const preliminary = await record(api, tokens.doctor, patient, "preliminary");
  const final = await record(api, tokens.doctor, patient, "final");
  const before = await api.db.select().from(labResults);
  const refusedFinal = await api.request("PATCH", `/labresults/${final.id}/`, {
    token: tokens.doctor,
    body: { result_value: "9.9" },
  });
  assertEquals([refusedFinal.status, refusedFinal.body.type], [
    422,
    "urn:problem-type:patient-portal:correction-required",
  ]);
  const colleague = await api.request("PATCH", `/labresults/${preliminary.id}/`, {
    token: tokens.colleague,
    body: { result_value: "9.9" },
  });
  const stranger = await api.request("PATCH", `/labresults/${preliminary.id}/`, {
    token: tokens.stranger,
    body: { result_value: "9.9" },
  });
  const patientTries = await api.request("PATCH", `/labresults/${preliminary.id}/`, {
    token: tokens.patient,
    body: { result_value: "9.9" },
  });
  assertEquals([colleague.status, stranger.status, patientTries.status], [403, 404, 403]);
  for (const body of [{ status: "corrected" }, { patient: 1 }, { physician: 1 }, {}]) {
    const res = await api.request("PATCH", `/labresults/${preliminary.id}/`, { token: tokens.doctor, body });
    assertEquals(res.status, 422, JSON.stringify(body));
  }
  assertEquals(await api.db.select().from(labResults), before, "nothing changed");
});

appTest("POST /labresults/{id}/corrections/ adds a corrected version and keeps the earlier one", async (t, api) => {
  const { patient, doctor, tokens } = await careCircle(api);
  const original = await api.request("POST", "/labresults/", {
    token: tokens.doctor,
    raw: form({ patient: patient.id, ...FIELDS, status: "final" }, { bytes: PNG, type: "image/png", name: "scan.png" }),
  });
  const id = original.body.id as number;
  const correction = await api.request("POST", `/labresults/${id}/corrections/`, {
    token: tokens.doctor,
    body: { result_value: "6.1", comments: "Re-run after calibration" },
  });
  assertEquals(correction.status, 201, correction.text);
  const c = correction.body;
  assertEquals(
    [c.status, c.result_value, c.comments, c.unit, c.test_type, c.patient, c.physician, c.file],
    ["corrected", "6.1", "Re-run after calibration", "mmol/L", "Glucose", patient.id, doctor.id, original.body.file],
  );
  await t.step("the earlier version stays readable by id and points at the correction", async () => {
    const earlier = await api.request("GET", `/labresults/${id}/`, { token: tokens.patient });
    assertEquals([earlier.status, earlier.body.result_value, earlier.body.superseded_by], [200, "5.4", c.id]);
  });
  await t.step("lists show the latest version unless asked for earlier ones", async () => {
    const latest = await api.request("GET", "/labresults/", { token: tokens.patient });
    assertEquals((latest.body.results as { id: number }[]).map((r) => r.id), [c.id]);
    const all = await api.request("GET", "/labresults/?include_superseded=true&ordering=id", { token: tokens.patient });
    assertEquals((all.body.results as { id: number }[]).map((r) => r.id), [id, c.id]);
  });
  await t.step("only the latest version is corrected, by its physician, with a new file if given", async () => {
    const again = await api.request("POST", `/labresults/${id}/corrections/`, {
      token: tokens.doctor,
      body: { result_value: "7" },
    });
    assertEquals(again.status, 409);
    const byColleague = await api.request("POST", `/labresults/${c.id}/corrections/`, {
      token: tokens.colleague,
      body: { result_value: "7" },
    });
    assertEquals(byColleague.status, 403);
    for (const body of [{ status: "final" }, { test_type: "Other" }, { patient: patient.id }, {}]) {
      const res = await api.request("POST", `/labresults/${c.id}/corrections/`, { token: tokens.doctor, body });
      assertEquals(res.status, 422, JSON.stringify(body));
    }
    const pdf = new TextEncoder().encode("%PDF-1.7\n%fake but well-typed\n");
    const second = await api.request("POST", `/labresults/${c.id}/corrections/`, {
      token: tokens.doctor,
      raw: form({ result_value: "6.0" }, { bytes: pdf, type: "application/pdf", name: "report.pdf" }),
    });
    assertEquals(second.status, 201, second.text);
    assertEquals((second.body.file as { content_type: string }).content_type, "application/pdf");
    const first = await api.request("GET", `/labresults/${id}/file/`, { token: tokens.patient });
    assertEquals(first.headers.get("content-type"), "image/png", "the earlier file is kept");
  });
  await t.step("a preliminary result is not corrected", async () => {
    const preliminary = await record(api, tokens.doctor, patient, "preliminary");
    const res = await api.request("POST", `/labresults/${preliminary.id}/corrections/`, {
      token: tokens.doctor,
      body: { result_value: "1" },
    });
    assertEquals(res.status, 422);
  });
  assertEquals((await api.db.select().from(labResults)).length, 4);
});

appTest("the OpenAPI document offers JSON and multipart bodies for lab results", (_t, api) => {
  const doc = api.app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
  const create = doc.paths?.["/labresults"]?.post?.requestBody as { content: Record<string, unknown> };
  assertEquals(Object.keys(create.content).sort(), ["application/json", "multipart/form-data"]);
  const patch = doc.paths?.["/prescriptions/{id}"]?.patch;
  assert(patch?.summary?.includes("refill_requested"));
  return Promise.resolve();
});
