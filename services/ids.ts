/** Row ids as text: canonical positive integers within Postgres `integer` (what the server writes). */
export const MAX_ROW_ID = 2147483647;
export const ROW_ID_TEXT = /^[1-9][0-9]{0,9}$/;

/** The id a path or query names, or undefined when the text is not a canonical id (`03`, `0x3`, `3.0`). */
export function parseRowId(text: string | undefined): number | undefined {
  if (text === undefined || !ROW_ID_TEXT.test(text)) return undefined;
  const id = Number(text);
  return id <= MAX_ROW_ID ? id : undefined;
}
