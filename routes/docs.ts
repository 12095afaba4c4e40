import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../middleware/env.ts";
import { declareRoute, jsonResponse, newRouter, problems } from "./_route.ts";
import { INIT_JS, page, SIGNIN_JS } from "./docs_page.ts";

const DESCRIPTION = "The patient portal's REST API. Sign in with `POST /token/` and send " +
  "`Authorization: Bearer <access token>` on every operation that is not public. Each operation states who " +
  "may call it in its description and in `x-access`; a row outside the caller's scope answers 404. " +
  "Errors are RFC 9457 `application/problem+json`.";

/** Paths the contract lists without a trailing slash; every other path gets one. */
const BARE = /^\/(health|ready|openapi\.json|docs|\.well-known\/jwks\.json)(\/|$)/;

/** The contract's spelling of a declared path: `/patients/{id}` → `/patients/{id}/`. */
function contractPath(path: string): string {
  return BARE.test(path) || path.endsWith("/") ? path : `${path}/`;
}

/** Files served from `swagger-ui-dist`, plus the page's own scripts (inline scripts are refused by the CSP). */
const DIST = new URL("../node_modules/swagger-ui-dist/", import.meta.url);
const ASSETS = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "init.js": "text/javascript; charset=utf-8",
  "signin.js": "text/javascript; charset=utf-8",
} as const;
type AssetName = keyof typeof ASSETS;

/** Swagger UI runs from this origin only (it needs inline styles and data: icons); "Try it out" calls the API's URL. */
const csp = (publicUrl?: string) =>
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  `connect-src 'self'${publicUrl ? ` ${new URL(publicUrl).origin}` : ""}; font-src 'self'; base-uri 'none'; ` +
  "form-action 'none'; frame-ancestors 'none'";

const files = new Map<string, Promise<Uint8Array>>();
/** Reads a package file once; a failed read is forgotten so the next request retries. */
function distFile(name: string): Promise<Uint8Array> {
  let file = files.get(name);
  if (!file) {
    file = Deno.readFile(new URL(name, DIST));
    files.set(name, file);
    file.catch(() => files.delete(name));
  }
  return file;
}
const distVersion = async () => JSON.parse(new TextDecoder().decode(await distFile("package.json"))).version as string;

const access = { kind: "public", reason: "API documentation" } as const;

const openapi = declareRoute({
  method: "get",
  path: "/openapi.json",
  operationId: "openapi",
  tags: ["docs"],
  summary: "This OpenAPI 3.1 document",
  access,
  responses: { 200: jsonResponse("The document", z.record(z.string(), z.unknown())) },
});
// The docs page and its files are left out of the document (`hide`), but stay in the route inventory.
const docs = declareRoute({
  method: "get",
  path: "/docs",
  operationId: "docs",
  summary: "Interactive docs (Swagger UI)",
  access,
  hide: true,
  responses: { 200: { description: "The docs page" } },
});
const asset = declareRoute({
  method: "get",
  path: "/docs/assets/{name}",
  operationId: "docs_asset",
  summary: "A static file of the docs page",
  access,
  hide: true,
  request: { params: z.object({ name: z.enum(Object.keys(ASSETS) as AssetName[]) }) },
  responses: { 200: { description: "The file" }, ...problems(404) },
});

/** `/openapi.json` built from `app`'s declarations (once, on first use), and Swagger UI at `/docs`, served offline. */
export function docsRoutes(app: OpenAPIHono<AppEnv>) {
  const router = newRouter();
  let document: Record<string, unknown> | undefined;

  router.openapi(openapi, (c) => {
    if (!document) {
      const publicUrl = c.get("deps").config.PUBLIC_URL;
      const built = app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { title: "Patient Portal API", version: "1.0.0", description: DESCRIPTION },
        ...(publicUrl ? { servers: [{ url: publicUrl }] } : {}),
      });
      const paths = Object.entries(built.paths ?? {}).map(([path, item]) => [contractPath(path), item]);
      document = { ...built, paths: Object.fromEntries(paths) };
    }
    return c.json(document, 200);
  });

  router.openapi(docs, async (c) => {
    c.header("Content-Security-Policy", csp(c.get("deps").config.PUBLIC_URL));
    c.header("Cache-Control", "no-cache");
    return c.html(page(await distVersion()), 200);
  });

  router.openapi(asset, async (c) => {
    const { name } = c.req.valid("param");
    const body = name === "init.js" ? INIT_JS : name === "signin.js" ? SIGNIN_JS : await distFile(name);
    return c.body(body as Uint8Array<ArrayBuffer> | string, 200, {
      "Content-Type": ASSETS[name],
      "X-Content-Type-Options": "nosniff",
      // The page asks for ?v=<swagger-ui-dist version>, so an upgrade changes the URL.
      "Cache-Control": name.startsWith("swagger-ui") || name.startsWith("favicon")
        ? "public, max-age=31536000, immutable"
        : "no-cache",
    });
  });

  return router;
}
