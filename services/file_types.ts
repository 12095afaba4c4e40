/**
 * Upload checks for lab result files: the type comes from the file's first bytes, never from the
 * name or the client's declaration alone (OWASP ASVS 12.2.1), and the stored name is made safe
 * for a `Content-Disposition` header.
 */
import { DomainError, type ErrorKind } from "../errors.ts";

/** The file types a lab result may carry (the `lab_files` check constraint allows these). */
export const LAB_FILE_TYPES = ["application/pdf", "image/png", "image/jpeg", "text/plain"] as const;
export type LabFileType = typeof LAB_FILE_TYPES[number];

/** Upper bound of one stored file (the `lab_files` size check). */
export const MAX_LAB_FILE_BYTES = 10 * 1024 * 1024;

const SIGNATURES: [LabFileType, number[]][] = [
  ["application/pdf", [0x25, 0x50, 0x44, 0x46, 0x2d]], // %PDF-
  ["image/png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]], // \x89PNG\r\n\x1a\n
  ["image/jpeg", [0xff, 0xd8, 0xff]],
];

/**
 * The type of a file from its content: PDF, PNG and JPEG by their magic bytes, plain text when
 * the bytes are valid UTF-8 without NUL; undefined for anything else.
 */
export function sniffFileType(bytes: Uint8Array): LabFileType | undefined {
  for (const [type, magic] of SIGNATURES) {
    if (bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b)) return type;
  }
  if (bytes.includes(0)) return undefined;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return "text/plain";
  } catch {
    return undefined;
  }
}

/**
 * The media type a client declared for a part, reduced to its essence (`text/plain; charset=utf-8`
 * → `text/plain`); undefined when it declared nothing specific (empty or `application/octet-stream`,
 * which is what browsers send for a type they do not know).
 */
export function declaredType(contentType: string): string | undefined {
  const essence = contentType.split(";")[0].trim().toLowerCase();
  if (essence === "" || essence === "application/octet-stream") return undefined;
  return essence === "image/jpg" ? "image/jpeg" : essence;
}

/** Lowercase hex SHA-256 of the bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The extension a stored name ends with, by sniffed type; the first is the one given. */
const EXTENSIONS: Record<LabFileType, string[]> = {
  "application/pdf": ["pdf"],
  "image/png": ["png"],
  "image/jpeg": ["jpg", "jpeg"],
  "text/plain": ["txt"],
};

/**
 * A file name safe to store and to send back: the last path segment only, no control or
 * bidirectional-override characters, at most 255 characters, and the extension of the type its
 * bytes are (ASVS 12.2.1): `report.pdf.html` holding text is stored as `report.pdf.txt`, so a
 * download never opens as something else. A generic name when nothing is left.
 */
export function safeFileName(name: string, type: LabFileType): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  const cleaned = base
    .normalize("NFC")
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, "")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^\.+/, "")
    .replace(/[. ]+$/, "");
  const allowed = EXTENSIONS[type];
  const match = cleaned.match(/^(.*)\.([A-Za-z0-9]{1,16})$/);
  const [stem, extension] = match ? [match[1], match[2]] : [cleaned, ""];
  const kept = allowed.includes(extension.toLowerCase()) ? extension : allowed[0];
  const chars = Array.from(stem.replace(/[. ]+$/, ""));
  const room = 255 - kept.length - 1;
  const short = chars.length > room ? chars.slice(0, room).join("") : chars.join("");
  return `${short || "lab-result"}.${kept}`;
}

/**
 * `Content-Disposition: attachment` for a stored name: an ASCII `filename` fallback and, when the
 * name is not plain ASCII, the exact name as RFC 6266 / RFC 8187 `filename*`.
 */
export function attachmentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  const header = `attachment; filename="${fallback}"`;
  if (fallback === name) return header;
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${header}; filename*=UTF-8''${encoded}`;
}

/** An accepted upload, ready to store. */
export interface AcceptedFile {
  name: string;
  contentType: LabFileType;
  size: number;
  sha256: string;
  content: Uint8Array;
}

/**
 * Checks an uploaded file part: at most 10 MiB (413), not empty (422), one of the four types by
 * its bytes, and the same type the part declared when it declared one (415 otherwise).
 */
export async function acceptLabFile(file: File): Promise<AcceptedFile> {
  const problem = (kind: ErrorKind, slug: string, detail: string) =>
    new DomainError(kind, slug, detail, { errors: [{ pointer: "/file", detail }] });
  if (file.size > MAX_LAB_FILE_BYTES) {
    throw problem("too-large", "file-too-large", `The file is larger than ${MAX_LAB_FILE_BYTES} bytes`);
  }
  if (file.size === 0) throw problem("invalid", "validation", "The file is empty");
  const bytes = new Uint8Array(await file.arrayBuffer());
  const sniffed = sniffFileType(bytes);
  const declared = declaredType(file.type);
  if (!sniffed) {
    throw problem("unsupported-type", "unsupported-file-type", "The file is not a PDF, PNG, JPEG or UTF-8 text file");
  }
  if (declared && declared !== sniffed) {
    throw problem(
      "unsupported-type",
      "unsupported-file-type",
      `The file's content is ${sniffed}, not the declared ${declared}`,
    );
  }
  return {
    name: safeFileName(file.name, sniffed),
    contentType: sniffed,
    size: bytes.length,
    sha256: await sha256Hex(bytes),
    content: bytes,
  };
}
