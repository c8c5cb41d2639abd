// Replay pacing: the speed shown is the speed played, also where a sample's gap / speed is shorter
// than the shortest tick.
import { describe, expect, it } from 'vitest';
import { playPlan } from '../../src/ui/app.js';

/** Sample times `gapMs` apart. */
const every = (gapMs: number) => (i: number): number => 1_000_000 + i * gapMs;

/** Recorded ms played per real ms when playing from 0 to `last` tick by tick. */
function playedSpeed(wallMsOf: (i: number) => number | null, last: number, speed: number): number {
  let position = 0;
  let realMs = 0;
  while (position < last) {
    const { steps, delayMs } = playPlan(wallMsOf, position, last, speed, 1000);
    expect(steps).toBeGreaterThan(0);
    realMs += delayMs;
    position += steps;
  }
  return (wallMsOf(last)! - wallMsOf(0)!) / realMs;
}

describe('playPlan', () => {
  it('advances one sample per tick while the gap / speed is long enough', () => {
    expect(playPlan(every(1000), 5, 100, 1, 1000)).toEqual({ steps: 1, delayMs: 1000 });
    expect(playPlan(every(1000), 5, 100, 32, 1000)).toEqual({ steps: 1, delayMs: 31.25 });
    expect(playPlan(every(1000), 5, 100, 0.25, 1000)).toEqual({ steps: 1, delayMs: 4000 });
  });

  it('advances several samples per tick when one would be shorter than the shortest tick', () => {
    expect(playPlan(every(1000), 5, 100, 64, 1000)).toEqual({ steps: 2, delayMs: 31.25 });
    expect(playPlan(every(100), 5, 100, 64, 1000)).toEqual({ steps: 13, delayMs: 20.3125 });
  });

  it('plays at the speed shown: x64 on a 1 s recording is x64, not x50', () => {
    for (const speed of [1, 8, 32, 64]) expect(playedSpeed(every(1000), 600, speed)).toBeCloseTo(speed, 6);
    expect(playedSpeed(every(100), 6000, 64)).toBeGreaterThan(60);
  });

  it('stops at the last position, bounds runs of equal times, and uses the fallback gap for unknown times', () => {
    expect(playPlan(every(10), 98, 100, 64, 1000).steps).toBe(2);
    expect(playPlan(every(1000), 100, 100, 64, 1000)).toEqual({ steps: 0, delayMs: 20 });
    expect(playPlan(() => 5, 0, 10_000, 1, 1000)).toEqual({ steps: 256, delayMs: 20 });
    expect(playPlan(() => null, 0, 100, 2, 1000)).toEqual({ steps: 1, delayMs: 500 });
    expect(playPlan(every(3_600_000), 0, 100, 1, 1000)).toEqual({ steps: 1, delayMs: 60_000 });
  });
});
