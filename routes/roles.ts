import { newRouter } from "./_route.ts";

/** Placeholder: this resource's routes are being written. */
export function roleRoutes() {
  return newRouter();
}
