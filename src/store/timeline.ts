// Frames and hints at any position of a sequence of snapshots (a recording, or the live history):
// position i is the interval between samples i-1 and i. Replay and paused-live stepping both read
// the UI's frames from here, so they derive exactly what a live run derives.
//
// Hints depend on the frames before them (minimum durations, hysteresis), and a hint kept by its hold
// level may have started long before. To show at position i the hints a run from the first position
// shows, a seek replays the frames before i twice, from two bounds: one that assumes no hint was
// active before the replay and one that assumes every hint it meets early on was. The run from the
// start lies between them; where they agree it is known, else the replay starts twice as far back.
import { advanceHints, findHints, initialHintState, OFF_FRAMES, RECENT_FRAMES } from '../hints/engine.js';
import type { HintState } from '../hints/engine.js';
import { RULES } from '../hints/rules/index.js';
import { THRESHOLDS } from '../hints/thresholds.js';
import { hintKey } from '../hints/types.js';
import type { Hint } from '../hints/types.js';
import { derive } from '../model/derive.js';
import type { Frame } from '../model/frame.js';
import type { Snapshot } from '../model/snapshot.js';

/** Random access to stored snapshots. */
export interface SnapshotStore {
  readonly count: number;
  /** Samples dropped from the front since the store began (live history): sample i was sample dropped + i. */
  readonly dropped?: number;
  /** Sample i, or null when its bytes are damaged. */
  sample(i: number): Snapshot | null;
}

/**
 * Frames a seek first replays before its position: the longest minimum duration of any rule, the
 * longest a hint lives on its hold level alone, and the frames it stays after its condition ended.
 * Usually enough to agree with a run from the start; when not, the seek looks further back.
 */
export const HINT_WARMUP_FRAMES = Math.max(...RULES.map((r) => r.minFrames)) + THRESHOLDS.holdFrames + OFF_FRAMES;

/** Positions whose hint state is kept for stepping back without a replay. */
const KNOWN_MAX = 512;

/** A derived frame with the hints active at it. */
export interface Moment {
  index: number;
  frame: Frame;
  hints: Hint[];
}

/** The hint engine's state after a position, as a run from the first position has it. */
interface Known {
  state: HintState;
  hints: Hint[];
  /** False when the position has no frame (a damaged sample): the state is carried over it. */
  shown: boolean;
}

/** The same hints, in the same order, with the same messages. */
function sameHints(a: readonly Hint[], b: readonly Hint[]): boolean {
  return a.length === b.length && a.every((h, i) => hintKey(h.id, h.subject) === hintKey(b[i].id, b[i].subject) && h.severity === b[i].severity && h.message === b[i].message);
}

/** Derives frames and hints at positions of a store, reusing its work when stepping. */
export class Timeline {
  /** Hint states known to be those of a run from the first position, by absolute sample number. */
  private readonly known = new Map<number, Known>();
  /** The last moment returned, by absolute sample number (derive reuses its unchanged threads). */
  private last: { abs: number; moment: Moment } | null = null;

  constructor(private readonly store: SnapshotStore) {}

  /** Positions with a frame: 1 .. count-1 (a frame needs the sample before it). */
  get positions(): number {
    return Math.max(0, this.store.count - 1);
  }

  /** The frame between samples i-1 and i and its hints; null when either sample is damaged or out of range. */
  at(i: number): Moment | null {
    if (i < 1 || i >= this.store.count) return null;
    const abs = this.absolute(i);
    if (this.last?.abs === abs) return this.last.moment;
    const before = this.known.get(abs - 1);
    const here = this.known.get(abs);
    let moment: Moment | null;
    if (here) {
      const frame = here.shown ? this.frameAt(i) : null;
      moment = frame && { index: i, frame, hints: here.hints };
    } else if (before) {
      moment = this.step(i, before);
    } else {
      moment = this.seek(i);
    }
    if (moment) this.last = { abs, moment };
    return moment;
  }

  /**
   * The next position after (dir 1) or before (dir -1) `from` at which a hint starts that was not
   * active one position earlier; null when there is none. Runs searchHintStart to its end.
   */
  findHintStart(from: number, dir: 1 | -1): number | null {
    const search = this.searchHintStart(from, dir);
    for (;;) {
      const step = search.next();
      if (step.done) return step.value;
    }
  }

  /**
   * Searches the whole store for the position findHintStart gives, at a cost linear in the positions
   * scanned: forward it steps on from `from`; backward it scans blocks that double in size towards
   * the start, each forward from one seek. Yields the share of the range covered so far after every
   * position, so that a caller can show progress and stay responsive between steps; returns the
   * position found. The store may grow or drop old samples between steps (live history).
   */
  *searchHintStart(from: number, dir: 1 | -1): Generator<number, number | null> {
    const keys = (hints: readonly Hint[] | null): Set<string> => new Set((hints ?? []).map((h) => hintKey(h.id, h.subject)));
    const starts = (now: readonly Hint[] | null, before: Set<string>): boolean => now !== null && now.some((h) => !before.has(hintKey(h.id, h.subject)));
    // Positions as absolute sample numbers, so that samples dropped meanwhile do not move them.
    const rel = (abs: number): number => abs - (this.store.dropped ?? 0);
    const fromAbs = this.absolute(from);
    if (dir === 1) {
      let before = keys(this.hintsAt(from));
      for (let abs = fromAbs + 1; rel(abs) < this.store.count; abs++) {
        if (rel(abs) < 2) return null;
        const now = this.hintsAt(rel(abs));
        if (starts(now, before)) return rel(abs);
        before = keys(now);
        yield (abs - fromAbs) / Math.max(1, this.store.count - rel(fromAbs));
      }
      return null;
    }
    let block = HINT_WARMUP_FRAMES;
    for (let hiAbs = fromAbs; rel(hiAbs) > 2; block *= 2) {
      const loAbs = Math.max(hiAbs - block, this.absolute(2));
      let before = keys(this.hintsAt(rel(loAbs) - 1));
      let found: number | null = null;
      for (let abs = loAbs; abs < hiAbs; abs++) {
        if (rel(abs) < 2) return null;
        const now = this.hintsAt(rel(abs));
        if (starts(now, before)) found = abs;
        before = keys(now);
        yield (fromAbs - hiAbs + abs - loAbs + 1) / Math.max(1, fromAbs - this.absolute(2));
      }
      if (found !== null) return rel(found);
      hiAbs = loAbs;
    }
    return null;
  }

  /** The hints at position i without deriving its frame when they are known; null when it has no frame. */
  private hintsAt(i: number): Hint[] | null {
    const known = this.known.get(this.absolute(i));
    if (known) return known.shown ? known.hints : null;
    return this.at(i)?.hints ?? null;
  }

  private absolute(i: number): number {
    return (this.store.dropped ?? 0) + i;
  }

  /** The frame at position i, reusing the last moment's when it is the one before; null when a sample is damaged. */
  private frameAt(i: number, previous: Frame | null = this.last?.abs === this.absolute(i - 1) ? this.last.moment.frame : null): Frame | null {
    const prev = this.store.sample(i - 1);
    const cur = this.store.sample(i);
    return prev && cur ? derive(prev, cur, previous) : null;
  }

  private remember(i: number, known: Known): void {
    this.known.set(this.absolute(i), known);
    if (this.known.size > KNOWN_MAX) this.known.delete(this.known.keys().next().value!);
  }

  /** One position on from a known state. */
  private step(i: number, before: Known): Moment | null {
    const frame = this.frameAt(i);
    if (!frame) {
      this.remember(i, { ...before, shown: false });
      return null;
    }
    const next = advanceHints(before.state, frame, findHints(frame, before.state.recent));
    this.remember(i, { state: next.state, hints: next.hints, shown: true });
    return { index: i, frame, hints: next.hints };
  }

  /** Position i with no known state before it: replays from further back until the hints are certain. */
  private seek(i: number): Moment | null {
    for (let warmup = HINT_WARMUP_FRAMES; ; warmup *= 2) {
      const start = Math.max(1, i - warmup);
      const replayed = this.replay(start, i);
      if (replayed.certain) return replayed.moment;
    }
  }

  /**
   * Replays positions start..i from both bounds (one only from the first position, where the past
   * is empty), remembering every position from the one where they agree; `certain` when they agree
   * at i.
   */
  private replay(start: number, i: number): { certain: boolean; moment: Moment | null } {
    // The frames just before the start, for the rules that compare over time.
    const before: Frame[] = [];
    for (let k = start - 1; k >= 1 && before.length < RECENT_FRAMES; k--) {
      const f = this.frameAt(k, null);
      if (f) before.unshift(f);
    }
    let lower = { state: initialHintState(before), hints: [] as Hint[] };
    let upper: typeof lower | null = start > 1 ? { state: initialHintState(before, true), hints: [] } : null;
    let frame: Frame | null = null;
    for (let k = start; k <= i; k++) {
      frame = this.frameAt(k, frame);
      if (frame) {
        const findings = findHints(frame, lower.state.recent);
        lower = advanceHints(lower.state, frame, findings);
        if (upper) {
          upper = advanceHints(upper.state, frame, findings);
          // The upper bound holds once its first OFF_FRAMES frames are past (a hint kept over a gap at
          // the start shows before it is seen again). Once the bounds show the same hints they stay
          // equal: from here on the replay is exact.
          if (upper.state.frames >= OFF_FRAMES && sameHints(lower.hints, upper.hints)) upper = null;
        }
      }
      if (!upper) this.remember(k, { state: lower.state, hints: lower.hints, shown: frame !== null });
    }
    return { certain: upper === null, moment: frame && { index: i, frame, hints: lower.hints } };
  }
}
