/** The current time; injected so tests can move it instead of sleeping. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/** An instant as the API writes it: a Date's ISO text, or the ISO text a list row already carries. */
export function isoOf(value: Date | string): string {
  return typeof value === "string" ? value : value.toISOString();
}
