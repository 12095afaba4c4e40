import type { Context } from "hono";
import { UnsupportedType } from "../../errors.ts";
import type { AppEnv } from "../../middleware/env.ts";
import { acceptLabFile } from "../../services/file_types.ts";
import type { NewFile } from "../../services/lab_results.ts";

/** Room for a 10 MiB file plus the form fields and multipart framing; the file itself is checked too. */
export const UPLOAD_LIMIT = 11 * 1024 * 1024;

/**
 * The fields of a JSON or multipart body (each validated by the schema of its media type; the two
 * differ only by `file`), and its file checked by content and hashed; 415 for any other body.
 */
export async function uploadOf<T extends object>(
  c: Context<AppEnv>,
  json: () => unknown,
  form: () => unknown,
): Promise<{ fields: T; file: NewFile | undefined }> {
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (/^application\/([a-z.-]+\+)?json$/.test(type)) return { fields: json() as T, file: undefined };
  if (type === "multipart/form-data") {
    const { file, ...fields } = form() as T & { file?: File };
    return { fields: fields as T, file: file ? await acceptLabFile(file) : undefined };
  }
  throw new UnsupportedType("unsupported-media-type", "Send the body as application/json or multipart/form-data");
}
