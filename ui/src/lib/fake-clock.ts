/**
 * A {@link MockClock} for tests: `sleep` waits for `flush`, which jumps straight to the next
 * timer, so a whole simulated deployment runs in microtasks with exact times.
 */
import type { MockClock } from "$lib/mock-backend";

/** A fake clock and the way to run its timers. */
export interface FakeClock extends MockClock {
  /** Runs timers in time order until none is left (or `limit` steps). */
  flush(limit?: number): Promise<void>;
}

/** A fake clock starting at 2025-06-01 10:00 UTC. */
export function fakeClock(): FakeClock {
  let now = Date.parse("2025-06-01T10:00:00Z");
  const timers: { due: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        timers.push({ due: now + ms, resolve });
      }),
    async flush(limit = 10_000) {
      for (let i = 0; i < limit; i++) {
        await new Promise((r) => setTimeout(r, 0));
        if (timers.length === 0) return;
        timers.sort((a, b) => a.due - b.due);
        const next = timers.shift();
        if (next) {
          now = Math.max(now, next.due);
          next.resolve();
        }
      }
    },
  };
}
