// The live TUI's history: capped by bytes, readable like a replay, savable as a recording.
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RecordingError } from '../../src/store/format.js';
import { History } from '../../src/store/history.js';
import { RecordingReader } from '../../src/store/reader.js';
import { sameSnapshots, smallSeries, tempDir, withoutCmdlines } from './helpers.js';
import { syntheticSeries } from './synthetic.js';

const tmp = tempDir();

describe('History', () => {
  it('gives back what was appended, oldest first, with its time span', async () => {
    const snaps = smallSeries(12);
    const history = new History({ recordCmdlines: true, chunkSamples: 5 });
    expect(history.count).toBe(0);
    expect(history.firstWallMs).toBeNull();
    expect(history.minutesHeld).toBeNull();
    for (const s of snaps) await history.append(s);
    expect(history.count).toBe(12);
    expect(history.firstWallMs).toBe(snaps[0].wallMs);
    expect(history.lastWallMs).toBe(snaps[11].wallMs);
    for (const i of [11, 0, 7, 6, 3, 11]) expect(history.sample(i)).toEqual(snaps[i]);
    expect(() => history.sample(12)).toThrow(RangeError);
  });

  it('stores command lines as null unless asked to keep them', async () => {
    const [s] = smallSeries(1);
    const history = new History();
    await history.append(s);
    expect(history.sample(0)).toEqual(withoutCmdlines(s));
  });

  it('stays under its byte cap by dropping whole oldest chunks', async () => {
    const next = syntheticSeries(200, 20, 9);
    const capBytes = 60_000;
    const history = new History({ capBytes, recordCmdlines: true, chunkSamples: 10 });
    const snaps = [];
    for (let i = 0; i < 200; i++) {
      const s = next();
      snaps.push(s);
      await history.append(s);
      expect(history.bytes).toBeLessThanOrEqual(capBytes * 1.2);
    }
    expect(history.dropped).toBeGreaterThan(0);
    expect(history.dropped + history.count).toBe(200);
    const kept = snaps.slice(history.dropped);
    expect(history.firstWallMs).toBe(kept[0].wallMs);
    expect(sameSnapshots([history.sample(0)!, history.sample(history.count - 1)!], [kept[0], kept[kept.length - 1]])).toBe(true);
    // About (cap / bytes) × the span held, in minutes.
    const spanMin = (kept[kept.length - 1].wallMs - kept[0].wallMs) / 60_000;
    expect(history.minutesHeld!).toBeCloseTo((spanMin * capBytes) / history.bytes, 5);
  });

  it('saves what it holds as a recording the reader opens, and never overwrites', async () => {
    const snaps = smallSeries(13);
    const history = new History({ recordCmdlines: true, chunkSamples: 5 });
    const path = tmp('saved.whytop');
    await expect(history.saveTo(path)).rejects.toThrow(RecordingError);
    for (const s of snaps) void history.append(s);
    await history.saveTo(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const reader = RecordingReader.open(path, { verify: true });
    expect(reader.damage).toEqual([]);
    expect(reader.header.recordsCmdlines).toBe(true);
    expect(reader.header.startWallMs).toBe(snaps[0].wallMs);
    expect([...reader.samples()]).toEqual(snaps);
    reader.close();
    await expect(history.saveTo(path)).rejects.toThrow(`${path} exists: refusing to overwrite it`);
  });
});
