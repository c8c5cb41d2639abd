// The times a user types to move in a recording: g in replay, --from/--to of dump FILE.
import { describe, expect, it } from 'vitest';
import { parseTimeSpec } from '../../src/store/timeSpec.js';

/** A recording from 23:50:00 to 00:20:00 the next day, local time. */
const start = new Date(2024, 2, 10, 23, 50, 0).getTime();
const end = start + 30 * 60_000;
const ctx = { startMs: start, endMs: end, baseMs: start + 10 * 60_000 };
const local = (day: number, h: number, m: number, s = 0): number => new Date(2024, 2, day, h, m, s).getTime();

describe('parseTimeSpec', () => {
  it('reads start and end', () => {
    expect(parseTimeSpec('start', ctx)).toBe(start);
    expect(parseTimeSpec(' end ', ctx)).toBe(end);
  });

  it('reads clock times on the day of the recording, and after midnight on the next day', () => {
    expect(parseTimeSpec('23:55:10', ctx)).toBe(local(10, 23, 55, 10));
    expect(parseTimeSpec('23:55', ctx)).toBe(local(10, 23, 55));
    expect(parseTimeSpec('0:10', ctx)).toBe(local(11, 0, 10));
    expect(parseTimeSpec('00:10:05', ctx)).toBe(local(11, 0, 10, 5));
    // A clock time before the start that the next day does not reach either stays on the first day.
    expect(parseTimeSpec('14:03:10', ctx)).toBe(local(10, 14, 3, 10));
  });

  it('reads relative times from the base, backwards from backBaseMs when given', () => {
    expect(parseTimeSpec('+5m', ctx)).toBe(ctx.baseMs + 300_000);
    expect(parseTimeSpec('-30s', ctx)).toBe(ctx.baseMs - 30_000);
    expect(parseTimeSpec('+1h', ctx)).toBe(ctx.baseMs + 3_600_000);
    expect(parseTimeSpec('+0.5s', ctx)).toBe(ctx.baseMs + 500);
    expect(parseTimeSpec('+90', ctx)).toBe(ctx.baseMs + 90_000); // seconds without a unit
    expect(parseTimeSpec('-1d', ctx)).toBe(ctx.baseMs - 86_400_000);
    const split = { ...ctx, backBaseMs: end };
    expect(parseTimeSpec('+5m', split)).toBe(ctx.baseMs + 300_000);
    expect(parseTimeSpec('-30s', split)).toBe(end - 30_000);
  });

  it('reads ISO date-times', () => {
    expect(parseTimeSpec('2024-03-10T23:59:00Z', ctx)).toBe(Date.UTC(2024, 2, 10, 23, 59));
    expect(parseTimeSpec('2024-03-10', ctx)).toBe(Date.parse('2024-03-10'));
  });

  it.each(['', 'yesterday', '14:3', '25:00:00x', '+5x', '5m', '+-5m', '25:00', '14:60', '14:03:60', '2024-13-45T99:99', 'now', '1:2:3:4'])('refuses %j, saying what it accepts', (bad) => {
    expect(() => parseTimeSpec(bad, ctx)).toThrow(`cannot read time '${bad}': use HH:MM[:SS], an ISO date-time, +5m, -30s, start or end`);
  });
});
