/**
 * fast-check arbitraries from a JSON Schema (as zod's `toJSONSchema` writes it for a route's
 * body or query): `valid` follows the schema, `mutated` breaks a valid value the ways clients and
 * attackers do (wrong types, missing and extra fields, huge and hostile strings, boundary numbers).
 */
import fc from "fast-check";

// deno-lint-ignore no-explicit-any
export type JsonSchema = Record<string, any>;

const MAX_STRING = 120;

export function valid(schema: JsonSchema, root: JsonSchema = schema): fc.Arbitrary<unknown> {
  if (schema.$ref) return valid(resolve(schema.$ref, root), root);
  // A documented example is valid by definition; it reaches what a refinement checks (a time zone).
  const examples = [...(schema.examples ?? []), ...(schema.example !== undefined ? [schema.example] : [])];
  if (examples.length > 0) {
    const { example: _e, examples: _x, ...rest } = schema;
    return fc.oneof(fc.constantFrom(...examples), valid(rest, root));
  }
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((s: JsonSchema) => valid(s, root)));
  if (schema.allOf) return valid(Object.assign({}, ...schema.allOf), root);
  const type = schema.type;
  if (Array.isArray(type)) return fc.oneof(...type.map((t: string) => valid({ ...schema, type: t }, root)));
  switch (type) {
    case "string":
      return string(schema);
    case "integer":
      return fc.integer({ min: lower(schema, -(2 ** 31)), max: upper(schema, 2 ** 31 - 1) });
    case "number":
      return fc.double({ min: lower(schema, -1e9), max: upper(schema, 1e9), noNaN: true, noDefaultInfinity: true });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array":
      return fc.array(valid(schema.items ?? {}, root), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, Math.max(schema.minItems ?? 0, 4)),
      });
    case "object":
      return object(schema, root);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function lower(schema: JsonSchema, fallback: number): number {
  if (schema.exclusiveMinimum !== undefined) return schema.exclusiveMinimum + (schema.type === "integer" ? 1 : 1e-9);
  return schema.minimum ?? fallback;
}

function upper(schema: JsonSchema, fallback: number): number {
  if (schema.exclusiveMaximum !== undefined) return schema.exclusiveMaximum - (schema.type === "integer" ? 1 : 1e-9);
  return schema.maximum ?? fallback;
}

function string(schema: JsonSchema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? MAX_STRING, Math.max(min, MAX_STRING));
  const fits = (s: string) => s.length >= min && s.length <= (schema.maxLength ?? Infinity);
  if (schema.pattern && schema.format === "email") return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  switch (schema.format) {
    case "date-time":
      return fc.oneof(
        {
          weight: 4,
          arbitrary: fc.date({ min: new Date("1901-01-01"), max: new Date("2200-01-01"), noInvalidDate: true })
            .map((d) => d.toISOString()),
        },
        // Well-formed, and at the edges of what an offset can push past (year 0 and 10000).
        fc.constantFrom(
          "9999-12-31T23:59:59.999Z",
          "9999-12-31T23:00:00-23:59",
          "0001-01-01T00:00:00+23:59",
          "0000-01-01T00:00:00Z",
          "1000-06-15T12:00:00+05:30",
        ),
      );
    case "date":
      return fc.oneof(
        {
          weight: 4,
          arbitrary: fc.date({ min: new Date("1901-01-01"), max: new Date("2200-01-01"), noInvalidDate: true })
            .map((d) => d.toISOString().slice(0, 10)),
        },
        fc.constantFrom("9999-12-31", "0001-01-01", "0000-01-01", "1900-01-01"),
      );
    case "email":
      return fc.emailAddress().filter(fits);
  }
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  return fc.string({ minLength: min, maxLength: max, unit: "grapheme" }).filter(fits);
}

function object(schema: JsonSchema, root: JsonSchema): fc.Arbitrary<unknown> {
  const properties: Record<string, JsonSchema> = schema.properties ?? {};
  if (Object.keys(properties).length === 0 && schema.additionalProperties) {
    return fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), valid(schema.additionalProperties, root), {
      maxKeys: 4,
    });
  }
  const arbitraries = Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, valid(s, root)]));
  return fc.record(arbitraries, { requiredKeys: schema.required ?? [] });
}

function resolve(ref: string, root: JsonSchema): JsonSchema {
  return ref.replace(/^#\//, "").split("/").reduce((node, key) => node?.[key], root) ?? {};
}

/** Strings that have broken parsers, databases and headers. */
export const HOSTILE_STRINGS = [
  "",
  " ",
  "\u0000",
  "nul\u0000inside",
  "\ud800",
  "lone \udfff surrogate",
  "😀🩺💊".repeat(40),
  "\u202eevil\u202c",
  "e\u0301\u0301\u0301",
  "'; drop table users; --",
  "%00%2e%2e/%2f",
  "<script>alert(1)</script>",
  "x".repeat(5001),
  "x".repeat(70_000),
  "9".repeat(400),
  "-0",
  "NaN",
  "Infinity",
  "1e309",
  "0x10",
  "275760-09-13T00:00:00Z",
  "+275760-09-13T00:00:00.000Z",
  "99999-01-01T00:00:00Z",
  "10000-01-01T00:00:00Z",
  "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59.999Z",
  "1969-12-31T23:59:59.999-23:59",
  "2024-02-30",
  "24:00",
  "Europe/Nowhere",
  "null",
];

export const BOUNDARY_NUMBERS = [
  0,
  -0,
  -1,
  1,
  0.5,
  2147483647,
  2147483648,
  -2147483649,
  9007199254740991,
  9007199254740993,
  1e21,
  1e308,
  -1e308,
  Number.MIN_VALUE,
];

const wrongValue = fc.oneof(
  fc.constantFrom<unknown>(...HOSTILE_STRINGS),
  fc.constantFrom<unknown>(...BOUNDARY_NUMBERS),
  fc.constantFrom<unknown>(null, true, false, [], {}, [null], { a: { b: { c: [1, "x"] } } }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A valid body made invalid: each mutation is one a careless client or an attacker makes. */
export function mutated(schema: JsonSchema, root: JsonSchema = schema): fc.Arbitrary<unknown> {
  const base = valid(schema, root);
  const keys = Object.keys((schema.$ref ? resolve(schema.$ref, root) : schema).properties ?? {});
  const asObject = (
    v: unknown,
  ) => (v && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : {});
  const mutations: fc.Arbitrary<unknown>[] = [
    // Not an object at all.
    fc.constantFrom<unknown>(null, [], "text", 42, true, [{}]),
    // An unknown field.
    fc.tuple(base, fc.string({ minLength: 1, maxLength: 20 }), wrongValue)
      .map(([v, k, x]) => ({ ...asObject(v), [`extra_${k}`]: x })),
    // Server-owned fields a client must not set.
    fc.tuple(
      base,
      fc.constantFrom("id", "status", "created_at", "user", "sender", "owner", "role", "is_admin"),
      wrongValue,
    )
      .map(([v, k, x]) => ({ ...asObject(v), [k]: x })),
    // Deeply nested junk.
    fc.tuple(base, fc.integer({ min: 50, max: 2000 })).map(([v, depth]) => {
      let nested: unknown = "leaf";
      for (let i = 0; i < depth; i++) nested = { n: nested };
      return { ...asObject(v), deep: nested };
    }),
  ];
  if (keys.length > 0) {
    const key = fc.constantFrom(...keys);
    // A field with the wrong type or a hostile value.
    mutations.push(fc.tuple(base, key, wrongValue).map(([v, k, x]) => ({ ...asObject(v), [k]: x })));
    // A required field missing.
    mutations.push(
      fc.tuple(base, key).map(([v, k]) => {
        const copy = { ...asObject(v) };
        delete copy[k];
        return copy;
      }),
    );
    // Every field hostile at once.
    mutations.push(
      fc.tuple(...keys.map(() => wrongValue)).map((values) => Object.fromEntries(keys.map((k, i) => [k, values[i]]))),
    );
  }
  return fc.oneof(...mutations);
}

/** Query strings: valid values as text, or hostile ones for known and unknown parameters. */
export function queryValid(schema: JsonSchema, root: JsonSchema): fc.Arbitrary<Record<string, string>> {
  // A valid cursor comes only from a page's links; a made-up one is an invalid input.
  const { cursor: _cursor, ...properties } = schema.properties ?? {};
  return valid({ ...schema, properties }, root).map((v) =>
    Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, textOf(x)]))
  );
}

export function queryMutated(schema: JsonSchema, root: JsonSchema): fc.Arbitrary<Record<string, string>> {
  const keys = [...Object.keys(schema.properties ?? {}), "cursor", "unknown_param"];
  return fc.tuple(queryValid(schema, root), fc.constantFrom(...keys), wrongValue, fc.boolean()).map((
    [v, k, x, forged],
  ) => ({
    ...v,
    [k]: k === "cursor" && forged ? forgedCursor(x) : textOf(x),
  }));
}

/** A cursor that looks like ours but carries what the client wants. */
function forgedCursor(value: unknown): string {
  const payload = { o: "-created_at", v: value, t: "date", i: 1, d: "n" };
  const bytes = new TextEncoder().encode(JSON.stringify(payload));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value) ?? "";
}

/** Path ids: real rows, missing ones, and what a tampering client types instead of an id. */
export const HOSTILE_IDS = [
  "0",
  "-1",
  "abc",
  "0x3",
  "03",
  "3.0",
  "1e3",
  "%00",
  "%2e%2e",
  "2147483648",
  "9223372036854775808",
  `${"0".repeat(2100)}3`,
  "null",
  " 3",
];
