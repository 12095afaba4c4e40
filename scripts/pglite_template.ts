/**
 * `deno task pglite:template`: builds the embedded database's template (db/pglite_template.ts) ahead
 * of a first start, in PGLITE_TEMPLATE_DIR or the user's cache; prints its path. The Docker image
 * runs it at build time, so a container's first start on the embedded database needs no initdb.
 */
import { ensureTemplate, templateRoot } from "../db/pglite_template.ts";
import { configOrExplain } from "./_cli.ts";

const config = configOrExplain();
if (!config) Deno.exit(2);
const root = templateRoot(config.PGLITE_TEMPLATE_DIR);
if (!root) {
  console.error("No place for the template: set PGLITE_TEMPLATE_DIR (templates are off, or there is no HOME)");
  Deno.exit(2);
}
console.log(await ensureTemplate(root));
