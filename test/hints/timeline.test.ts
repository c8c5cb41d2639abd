// Replay shows the hints the live run showed: the Timeline (replay, paused live, `dump FILE`) against
// the engine run over consecutive frames from the first, stepping, seeking and searching, including a
// hint kept alive by its hold level for much longer than any fixed warm-up.
import { describe, expect, it } from 'vitest';
import { evaluateHints, initialHintState, RECENT_FRAMES } from '../../src/hints/engine.js';
import type { Hint } from '../../src/hints/types.js';
import { derive } from '../../src/model/derive.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { HINT_WARMUP_FRAMES, Timeline } from '../../src/store/timeline.js';
import type { SnapshotStore } from '../../src/store/timeline.js';
import { CHAIN_FROM, CHAIN_TO, dirtyChainSnapshots, liveHints } from './scripted.js';

const COUNT = 170;
const snaps = dirtyChainSnapshots(COUNT);
const live = liveHints(snaps);

/** A store over the snapshots that counts how many samples were read (what a seek costs). */
function storeOf(samples: ReadonlyArray<Snapshot | null>): SnapshotStore & { reads: number } {
  return {
    count: samples.length,
    reads: 0,
    sample(i) {
      this.reads++;
      return samples[i] ?? null;
    },
  };
}

const ids = (hints: readonly Hint[] | undefined): string[] => (hints ?? []).map((h) => `${h.id}:${h.subject.kind}:${h.subject.id ?? ''}`);
const dirtyActive = (i: number): boolean => ids(live[i]?.hints).includes('dirty-data:memory:');

describe('Timeline: replay shows what the live run showed', () => {
  it('has a scenario where a fixed warm-up would not do: a hint kept by its hold level far longer', () => {
    for (let i = CHAIN_FROM; i < CHAIN_TO; i++) expect(dirtyActive(i), `live dirty-data at ${i}`).toBe(true);
    expect(dirtyActive(CHAIN_TO + 1)).toBe(false);
    // The engine started fresh HINT_WARMUP_FRAMES before a position in the chain does not know the hint.
    const at = 120;
    let state = initialHintState();
    let hints: Hint[] = [];
    for (let k = at - HINT_WARMUP_FRAMES; k <= at; k++) ({ state, hints } = evaluateHints(state, derive(snaps[k - 1], snaps[k])));
    expect(ids(hints)).not.toContain('dirty-data:memory:');
    expect(CHAIN_TO - CHAIN_FROM).toBeGreaterThan(2 * HINT_WARMUP_FRAMES);
  });

  it('steps forward from the start with the live hints at every position', () => {
    const timeline = new Timeline(storeOf(snaps));
    for (let i = 1; i < COUNT; i++) {
      const m = timeline.at(i)!;
      expect(m.frame.time).toBe(live[i]!.frame.time);
      expect(m.hints, `hints at ${i}`).toEqual(live[i]!.hints);
    }
  });

  it('seeks anywhere, in any order, and steps on and back from there with the live hints', () => {
    for (const target of [120, 60, CHAIN_TO + 3, 2, 100, 45, 169]) {
      const store = storeOf(snaps);
      const timeline = new Timeline(store);
      expect(timeline.at(target)!.hints, `hints after a seek to ${target}`).toEqual(live[target]!.hints);
      for (const i of [target + 1, target - 1, target - 2, target + 2]) {
        if (i >= 1 && i < COUNT) expect(timeline.at(i)!.hints, `hints at ${i} after a seek to ${target}`).toEqual(live[i]!.hints);
      }
    }
    // Random jumps on one timeline (its cache of known states included).
    const timeline = new Timeline(storeOf(snaps));
    let seed = 3;
    for (let n = 0; n < 40; n++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const i = 1 + (seed % (COUNT - 1));
      expect(timeline.at(i)!.hints, `hints at ${i}`).toEqual(live[i]!.hints);
    }
  });

  it('looks back only as far as the hints need', () => {
    // After the chain the bounds agree within one warm-up: one replay of it (two samples a frame).
    const after = storeOf(snaps);
    new Timeline(after).at(COUNT - 1);
    expect(after.reads).toBeLessThanOrEqual(2 * (HINT_WARMUP_FRAMES + 1 + RECENT_FRAMES));
    // In the chain they agree only once the replay reaches back to where the hint started.
    const inChain = storeOf(snaps);
    new Timeline(inChain).at(140);
    expect(inChain.reads).toBeGreaterThan(2 * (140 - CHAIN_FROM));
  });

  it('finds where hints start, forward and backward, as the live run had them', () => {
    const keys = (i: number): Set<string> => new Set(ids(live[i]?.hints));
    const starts: number[] = [];
    for (let i = 2; i < COUNT; i++) if ([...keys(i)].some((k) => !keys(i - 1).has(k))) starts.push(i);
    expect(starts).toContain(CHAIN_FROM - 1); // dirty-data starts at its second frame at the start level
    const timeline = new Timeline(storeOf(snaps));
    const forward: number[] = [];
    for (let at = timeline.findHintStart(1, 1); at !== null; at = timeline.findHintStart(at, 1)) forward.push(at);
    expect(forward).toEqual(starts);
    const back = new Timeline(storeOf(snaps));
    const backward: number[] = [];
    for (let at = back.findHintStart(COUNT - 1, -1); at !== null; at = back.findHintStart(at, -1)) backward.push(at);
    expect(backward).toEqual([...starts].reverse());
  });

  it('carries the hint state over a damaged sample, as a run that skips it does', () => {
    const damaged = snaps.map((s, i) => (i === 90 ? null : s));
    const expected = liveHints(damaged);
    const timeline = new Timeline(storeOf(damaged));
    expect(timeline.at(90)).toBeNull();
    expect(timeline.at(91)).toBeNull();
    expect(timeline.at(95)!.hints).toEqual(expected[95]!.hints);
    expect(new Timeline(storeOf(damaged)).at(100)!.hints).toEqual(expected[100]!.hints);
    expect(ids(expected[100]!.hints)).toContain('dirty-data:memory:');
  });
});
