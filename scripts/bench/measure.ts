/** What the private benches share: CPU time of a call, the machine record with its load average. */
import { cpus, loadavg } from "node:os";

export const round = (x: number) => Math.round(x * 10) / 10;

/** The load average (1, 5, 15 min), one decimal. */
export const loadAverage = () => loadavg().map(round);

/** Runs `fn`: its result, the CPU time of this process meanwhile (user + system, ms) and the wall time (ms). */
export function cpuMs<T>(fn: () => T): [T, number, number] {
  const c = process.cpuUsage();
  const t = performance.now();
  const r = fn();
  const u = process.cpuUsage(c);
  return [r, (u.user + u.system) / 1000, performance.now() - t];
}

/** The `machine` line every bench prints first. */
export function machineRecord(): Record<string, unknown> {
  return {
    bench: "machine",
    cpus: cpus().length,
    model: cpus()[0]?.model,
    node: process.version,
    loadavg: loadAverage(),
  };
}
