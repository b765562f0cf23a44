/** The largest |milliseconds| a JavaScript Date can hold (ECMA-262 time value range). */
const MAX_DATE_MS = 8.64e15;

/**
 * Unix seconds as an ISO 8601 UTC time to the second, for people
 * ("2026-12-03T12:00:00Z"); "out of range" for a value no date can show, so
 * a message about a bad time never becomes a crash.
 */
export function isoSeconds(seconds: number | bigint): string {
  const s = Number(seconds);
  if (!Number.isSafeInteger(s) || Math.abs(s * 1000) > MAX_DATE_MS) return "out of range";
  return new Date(s * 1000).toISOString().replace(".000Z", "Z");
}
