// Frames and hints at any position of a sequence of snapshots (a recording, or the live history):
// position i is the interval between samples i-1 and i. Replay and paused-live stepping both read
// the UI's frames from here, so they derive exactly what a live run derives.
import { evaluateHints, initialHintState } from '../hints/engine.js';
import type { HintState } from '../hints/engine.js';
import type { Hint } from '../hints/types.js';
import { derive } from '../model/derive.js';
import type { Frame } from '../model/frame.js';
import type { Snapshot } from '../model/snapshot.js';

/** Random access to stored snapshots. */
export interface SnapshotStore {
  readonly count: number;
  /** Sample i, or null when its bytes are damaged. */
  sample(i: number): Snapshot | null;
}

/** Frames before a position that the hint engine replays to reach the state it had there. */
export const HINT_WARMUP_FRAMES = 12;

/** A derived frame with the hints active at it. */
export interface Moment {
  index: number;
  frame: Frame;
  hints: Hint[];
}

/** Derives frames and hints at positions of a store, reusing its work when stepping forward. */
export class Timeline {
  private last: { index: number; state: HintState; moment: Moment } | null = null;

  constructor(private readonly store: SnapshotStore) {}

  /** Positions with a frame: 1 .. count-1 (a frame needs the sample before it). */
  get positions(): number {
    return Math.max(0, this.store.count - 1);
  }

  /** The frame between samples i-1 and i and its hints; null when either sample is damaged or out of range. */
  at(i: number): Moment | null {
    if (i < 1 || i >= this.store.count) return null;
    if (this.last && this.last.index === i) return this.last.moment;
    let state = initialHintState();
    let from = Math.max(1, i - HINT_WARMUP_FRAMES);
    if (this.last && this.last.index < i && this.last.index >= i - HINT_WARMUP_FRAMES) {
      state = this.last.state;
      from = this.last.index + 1;
    }
    let moment: Moment | null = null;
    let prev = this.store.sample(from - 1);
    for (let k = from; k <= i; k++) {
      const cur = this.store.sample(k);
      if (!prev || !cur) {
        prev = cur;
        moment = null;
        continue;
      }
      const frame = derive(prev, cur, moment?.frame ?? (this.last?.index === k - 1 ? this.last.moment.frame : null));
      const evaluated = evaluateHints(state, frame);
      state = evaluated.state;
      moment = { index: k, frame, hints: evaluated.hints };
      prev = cur;
    }
    if (!moment || moment.index !== i) return null;
    this.last = { index: i, state, moment };
    return moment;
  }

  /**
   * The next position after (dir 1) or before (dir -1) `from` at which a hint starts that was not
   * active one position earlier; null when there is none within `limit` positions.
   */
  findHintStart(from: number, dir: 1 | -1, limit = 10_000): number | null {
    const keys = (m: Moment | null): Set<string> => new Set((m?.hints ?? []).map((h) => `${h.id}|${h.subject.kind}|${h.subject.id ?? ''}`));
    for (let i = from + dir, steps = 0; i >= 2 && i < this.store.count && steps < limit; i += dir, steps++) {
      const before = keys(this.at(i - 1));
      const now = this.at(i);
      if (now && [...keys(now)].some((k) => !before.has(k))) return i;
    }
    return null;
  }
}
