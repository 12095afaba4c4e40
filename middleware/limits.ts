import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { TooLarge } from "../errors.ts";
import type { AppEnv } from "./env.ts";

/** JSON bodies above 1 MiB are refused (contract); routes that take uploads set their own limit. */
export const JSON_BODY_LIMIT = 1024 * 1024;

export function limitBody(maxSize = JSON_BODY_LIMIT): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new TooLarge("body-too-large", `The request body is larger than ${maxSize} bytes`);
    },
  });
}
