import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app_env.ts";
import { newRouter } from "./_route.ts";

/** Placeholder: this resource's routes are being written. */
export function docsRoutes(_app: OpenAPIHono<AppEnv>) {
  return newRouter();
}
