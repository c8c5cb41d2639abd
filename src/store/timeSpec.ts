// Times a user types to move in a recording: `14:03:10` or `14:03` (that time on the day of the
// recording, local time), an ISO date-time, `+5m` / `-30s` / `+1h` (relative), `start`, `end`.

/** What a relative or day-relative time is taken against. */
export interface TimeContext {
  startMs: number;
  endMs: number;
  /** Where `+5m` counts from, and `-30s` unless backBaseMs says otherwise. */
  baseMs: number;
  /** Where `-30s` counts back from (default baseMs). */
  backBaseMs?: number;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a time spec to a wall time in ms, or throws an Error saying what is accepted. */
export function parseTimeSpec(spec: string, ctx: TimeContext): number {
  const text = spec.trim();
  if (text === 'start') return ctx.startMs;
  if (text === 'end') return ctx.endMs;
  const rel = /^([+-])(\d+(?:\.\d+)?)([smhd]?)$/.exec(text);
  if (rel) {
    const ms = Number(rel[2]) * UNIT_MS[rel[3] || 's'];
    return rel[1] === '+' ? ctx.baseMs + ms : (ctx.backBaseMs ?? ctx.baseMs) - ms;
  }
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (clock && Number(clock[1]) < 24 && Number(clock[2]) < 60 && Number(clock[3] ?? 0) < 60) {
    const day = new Date(ctx.startMs);
    day.setHours(Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0), 0);
    let ms = day.getTime();
    // A recording that crosses midnight: a clock time before the start means the next day.
    if (ms < ctx.startMs - 1000 && ms + UNIT_MS.d <= ctx.endMs + 1000) ms += UNIT_MS.d;
    return ms;
  }
  const iso = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && Number.isFinite(iso)) return iso;
  throw new Error(`cannot read time '${spec}': use HH:MM[:SS], an ISO date-time, +5m, -30s, start or end`);
}
