/**
 * Sends `count` requests at once and checks the rate limit's promise: some
 * are refused with 429 and a Retry-After of 1 to 10 s, and once that wait has
 * passed the next request is admitted (answered `admitted`).
 */
import { expect } from "vitest";

/** Waits for the next 10 s window of the rate-limit bindings when fewer than `needMs` are left in this one. */
export async function freshWindow(needMs: number): Promise<void> {
  const left = 10_000 - (Date.now() % 10_000);
  if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

export async function expectBurstRefusedThenAdmitted(
  send: () => Promise<Response>,
  count: number,
  admitted: number,
): Promise<number> {
  // the whole burst in one window: a burst split by a window boundary may stay under the budget in both
  await freshWindow(7000);
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: count }, send));
  const refused = answers.find((r) => r.status === 429);
  await Promise.all(answers.filter((r) => r !== refused).map((r) => r.body?.cancel()));
  expect(refused, "the burst was never refused").toBeDefined();
  const retryAfter = Number(refused!.headers.get("Retry-After"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(10);
  // The refusal came after `started`, so its window ends after started + retryAfter - 1 s: before that, still refused.
  if (Date.now() < started + (retryAfter - 1) * 1000 - 300) expect((await send()).status).toBe(429);
  await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
  expect((await send()).status).toBe(admitted);
  return retryAfter;
}
