// n / N over a long recording: the hint-start search covers the whole store, costs samples linear in
// the positions it scans (both directions), and yields its progress so the TUI stays responsive.
import { describe, expect, it } from 'vitest';
import { hintKey } from '../../src/hints/types.js';
import type { Snapshot } from '../../src/model/snapshot.js';
import { HINT_WARMUP_FRAMES, Timeline } from '../../src/store/timeline.js';
import type { SnapshotStore } from '../../src/store/timeline.js';
import { liveHints } from '../hints/scripted.js';
import { syntheticSeries } from './synthetic.js';

/** Positions of the long recording: more than twice the old search limit of 10 000. */
const COUNT = 25_000;
/** Where the dirty-data hint starts: its second sample at the start level. */
const STARTS = [40, 22_000];

const base = syntheticSeries(8, 2, 11)();

/** Sample i: the same tasks every second (no rates, so deriving is cheap), Dirty high just before each start. */
function sampleAt(i: number): Snapshot {
  const dirtyKb = STARTS.some((s) => i === s - 1 || i === s) ? 300 * 1024 : 1000;
  return {
    ...base,
    wallMs: base.wallMs + i * 1000,
    monoNs: base.monoNs + i * 1e9,
    uptimeS: base.uptimeS === null ? null : base.uptimeS + i,
    meminfoKb: { ...base.meminfoKb!, Dirty: dirtyKb, Writeback: 0 },
    taskSample: { ...base.taskSample, monoNs: base.taskSample.monoNs + i * 1e9 },
  };
}

const samples = Array.from({ length: COUNT }, (_, i) => sampleAt(i));

/** A store over `samples` counting the samples read. */
function countingStore(): SnapshotStore & { reads: number } {
  return {
    count: COUNT,
    reads: 0,
    sample(i) {
      this.reads++;
      return samples[i];
    },
  };
}

/** Runs a search to its end; returns what it found and the progress it yielded. */
function run(search: Generator<number, number | null>): { found: number | null; progress: number[] } {
  const progress: number[] = [];
  for (;;) {
    const step = search.next();
    if (step.done) return { found: step.value, progress };
    progress.push(step.value);
  }
}

describe('Timeline.searchHintStart on a long recording', () => {
  const live = liveHints(samples);
  const keys = (i: number): Set<string> => new Set((live[i]?.hints ?? []).map((h) => hintKey(h.id, h.subject)));
  const liveStarts: number[] = [];
  for (let i = 2; i < COUNT; i++) if ([...keys(i)].some((k) => !keys(i - 1).has(k))) liveStarts.push(i);

  it('has hint starts far apart, as a live run saw them', () => {
    expect(liveStarts).toEqual(STARTS);
  });

  it('finds a start 21 960 positions ahead, reading about two samples per position', () => {
    const store = countingStore();
    const timeline = new Timeline(store);
    timeline.at(STARTS[0] + 1);
    store.reads = 0;
    const { found, progress } = run(timeline.searchHintStart(STARTS[0] + 1, 1));
    expect(found).toBe(STARTS[1]);
    const scanned = STARTS[1] - STARTS[0] - 1;
    expect(progress.length).toBe(scanned - 1);
    expect(progress.every((p, k) => p > 0 && p <= 1 && (k === 0 || p >= progress[k - 1]))).toBe(true);
    expect(store.reads).toBeLessThanOrEqual(2 * scanned + 2 * HINT_WARMUP_FRAMES);
    // And none after it, to the end of the recording.
    expect(timeline.findHintStart(STARTS[1], 1)).toBeNull();
  });

  it('finds starts backwards across the whole recording at a cost linear in the distance', () => {
    const store = countingStore();
    const timeline = new Timeline(store);
    timeline.at(COUNT - 1);
    store.reads = 0;
    expect(run(timeline.searchHintStart(COUNT - 1, -1)).found).toBe(STARTS[1]);
    const near = store.reads;
    expect(near).toBeLessThanOrEqual(6 * (COUNT - 1 - STARTS[1]) + 8 * HINT_WARMUP_FRAMES);
    store.reads = 0;
    const { found, progress } = run(timeline.searchHintStart(STARTS[1], -1));
    expect(found).toBe(STARTS[0]);
    const distance = STARTS[1] - STARTS[0];
    // Blocks doubling in size: at most twice the distance scanned, two samples a frame, a seek per block.
    expect(store.reads).toBeLessThanOrEqual(4 * distance + 20 * (HINT_WARMUP_FRAMES + 10));
    expect(progress.every((p, k) => p > 0 && p <= 1 && (k === 0 || p >= progress[k - 1]))).toBe(true);
    expect(timeline.findHintStart(STARTS[0], -1)).toBeNull();
    // The hints shown after the jump are the live run's.
    expect(timeline.at(STARTS[0])!.hints).toEqual(live[STARTS[0]]!.hints);
  });
});
