import { PGlite } from "@electric-sql/pglite";
import { btree_gist } from "@electric-sql/pglite/contrib/btree_gist";

/**
 * Options every PGlite instance takes: btree_gist (the migrations create it) and a small buffer pool.
 * Postgres's default 128 MB of shared buffers is zeroed at every start (0.4 s here) and stays resident
 * for the life of the process; one developer's embedded data fits in far less, and the OS caches the files.
 */
export const PGLITE_OPTIONS = {
  extensions: { btree_gist },
  startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"],
};
