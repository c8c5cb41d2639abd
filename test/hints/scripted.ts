// Snapshots with a scripted hint history, and the hints a live run derives from them: the reference
// replay and `dump FILE` must match.
import { evaluateHints, initialHintState } from '../../src/hints/engine.js';
import type { Hint } from '../../src/hints/types.js';
import { derive } from '../../src/model/derive.js';
import type { Frame } from '../../src/model/frame.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { syntheticSeries } from '../store/synthetic.js';

const MiB_KB = 1024;

/** Sample number from which Dirty sits at the hold level, renewed at the start level every 11th sample. */
export const CHAIN_FROM = 7;
/** Sample number from which Dirty is low again: the chain ends. */
export const CHAIN_TO = 150;

/**
 * Dirty kB in sample n: quiet, then 300 MiB (the dirty-data start level) twice, then 220 MiB (hold)
 * with one sample at 300 MiB in every 11 (not two in a row, so a replay cannot start the hint from
 * there), then quiet again. A run from the start has the hint the whole chain; one that starts in the
 * middle of it never does.
 */
function dirtyKb(n: number): number {
  if (n === CHAIN_FROM - 2 || n === CHAIN_FROM - 1) return 300 * MiB_KB;
  if (n < CHAIN_FROM || n >= CHAIN_TO) return 1000;
  return (n - CHAIN_FROM) % 11 === 10 ? 300 * MiB_KB : 220 * MiB_KB;
}

/** Row of the task that is in D (uninterruptible) from sample 30 to 60, but for one sample (45). */
const BLOCKED_ROW = 5;

/** `count` snapshots of a small synthetic host with the Dirty chain and a thread blocked for a while. */
export function dirtyChainSnapshots(count: number): Snapshot[] {
  const next = syntheticSeries(40, 4, 7);
  return Array.from({ length: count }, (_, n) => {
    const s = next();
    const tasks = s.taskSample.tasks;
    const blocked = n >= 30 && n <= 60 && n !== 45;
    const state = blocked ? tasks.state.slice(0, BLOCKED_ROW) + 'D' + tasks.state.slice(BLOCKED_ROW + 1) : tasks.state;
    return { ...s, meminfoKb: { ...s.meminfoKb!, Dirty: dirtyKb(n), Writeback: 0 }, taskSample: { ...s.taskSample, tasks: { ...tasks, state } } };
  });
}

/** What a live run shows at each position (index 0 unused): the engine over consecutive frames from the first. */
export function liveHints(samples: ReadonlyArray<Snapshot | null>): Array<{ frame: Frame; hints: Hint[] } | null> {
  let state = initialHintState();
  let previous: Frame | null = null;
  const out: Array<{ frame: Frame; hints: Hint[] } | null> = [null];
  for (let i = 1; i < samples.length; i++) {
    const prev = samples[i - 1];
    const cur = samples[i];
    if (!prev || !cur) {
      out.push(null);
      previous = null;
      continue;
    }
    const frame = derive(prev, cur, previous);
    const evaluated = evaluateHints(state, frame);
    state = evaluated.state;
    previous = frame;
    out.push({ frame, hints: evaluated.hints });
  }
  return out;
}

/** Hints as `dump` prints them: without the explanation. */
export function printed(hints: readonly Hint[]): Array<Omit<Hint, 'explain'>> {
  return hints.map(({ explain: _explain, ...h }) => h);
}
