/** `GET /.well-known/jwks.json`: the public keys that verify access tokens (RFC 7517), for other services. */
import { z } from "@hono/zod-openapi";
import { declareRoute, jsonResponse, newRouter } from "./_route.ts";

const Jwks = z.object({
  keys: z.array(z.object({
    kty: z.literal("OKP"),
    crv: z.literal("Ed25519"),
    x: z.string(),
    kid: z.string(),
    alg: z.literal("EdDSA"),
    use: z.literal("sig"),
  })),
}).openapi("JsonWebKeySet");

const jwks = declareRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  operationId: "jwks",
  tags: ["auth"],
  summary: "The public keys that verify access tokens: the signing key and retired ones still accepted",
  description: "Tokens name their key by `kid`. Rotation: a new signing key is listed here as soon as it signs; a " +
    "retired one stays listed (`JWT_PUBLIC_KEYS`) until the last token it signed has expired.",
  access: { kind: "public", reason: "public keys, for verifiers that carry no credentials" },
  responses: { 200: jsonResponse("The key set", Jwks) },
});

export function jwksRoutes() {
  const app = newRouter();
  app.openapi(jwks, (c) => {
    // Public and the same for everyone; short-lived so a rotation is seen within minutes.
    c.header("Cache-Control", "public, max-age=300");
    return c.json({ keys: c.get("deps").tokens.keys.jwks } as z.infer<typeof Jwks>, 200);
  });
  return app;
}
