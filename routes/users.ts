import { newRouter } from "./_route.ts";

/** Placeholder: this resource's routes are being written. */
export function userRoutes() {
  return newRouter();
}
