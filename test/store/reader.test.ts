// Reading recordings: every sample back, and only intact ones from cut, corrupt or zero-filled files.
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/model/snapshot.js';
import { CHUNK_HEADER_BYTES, CHUNK_MAGIC, encodeChunkHeader, FRAME_HEADER_BYTES, RecordingError, walkFrames } from '../../src/store/format.js';
import { RecordingReader, scanRecording, type OpenOptions, type Scan } from '../../src/store/reader.js';
import { Recorder } from '../../src/store/recorder.js';
import { sameSnapshots, smallSeries, tempDir, withFormatVersion } from './helpers.js';
import { seededRandom } from './synthetic.js';

const tmp = tempDir();

/** Records `snaps` (chunks of `perChunk`); closes the recorder unless `leaveOpen` (as a crash would). */
async function record(name: string, snaps: Snapshot[], perChunk: number, leaveOpen = false): Promise<Buffer> {
  const path = tmp(name);
  const rec = Recorder.open(path, snaps[0].host, { recordCmdlines: true, chunkLimits: { maxSamples: perChunk, targetBodyBytes: 1 << 22 } });
  for (const s of snaps) await rec.append(s);
  const bytes = readFileSync(path);
  if (!leaveOpen) await rec.close();
  return leaveOpen ? bytes : readFileSync(path);
}

/** Header length, and the absolute end of every frame and every chunk of an intact recording. */
function layout(bytes: Buffer): { headerEnd: number; frameEnds: number[]; chunkEnds: number[]; chunkRanges: Array<[number, number, number]> } {
  const headerEnd = 16 + bytes.readUInt32LE(12) + 4;
  const frameEnds: number[] = [];
  const chunkEnds: number[] = [];
  const chunkRanges: Array<[number, number, number]> = [];
  let pos = headerEnd;
  while (pos < bytes.length) {
    const body = bytes.subarray(pos + CHUNK_HEADER_BYTES);
    const walk = walkFrames(body, bytes.readUInt32LE(pos + 8) === 1 ? bytes.readUInt32LE(pos + 12) : Infinity);
    for (const f of walk.frames) frameEnds.push(pos + CHUNK_HEADER_BYTES + f.offset + 20 + f.compressedBytes);
    const end = pos + CHUNK_HEADER_BYTES + walk.end;
    chunkRanges.push([pos, end, walk.frames.length]);
    chunkEnds.push(end);
    pos = end;
  }
  return { headerEnd, frameEnds, chunkEnds, chunkRanges };
}

/** Opens `bytes` as a file and reads every sample it gives. */
function readAll(bytes: Buffer, opts: OpenOptions = {}): { reader: RecordingReader; samples: Snapshot[] } {
  const path = tmp('cut.whytop');
  writeFileSync(path, bytes);
  const reader = RecordingReader.open(path, opts);
  const samples = [...reader.samples()];
  reader.close();
  return { reader, samples };
}

describe('RecordingReader on an intact recording', () => {
  const snaps = smallSeries(25, 60);
  let path = '';
  beforeAll(async () => {
    await record('intact.whytop', snaps, 4);
    path = tmp('intact.whytop');
  });

  it('gives every sample back, with the index and time span', () => {
    const reader = RecordingReader.open(path);
    expect(reader.count).toBe(25);
    expect(reader.chunks.length).toBe(7);
    expect(reader.damage).toEqual([]);
    expect(reader.firstWallMs).toBe(snaps[0].wallMs);
    expect(reader.lastWallMs).toBe(snaps[24].wallMs);
    expect(reader.header.host).toEqual(snaps[0].host);
    expect([...reader.samples()]).toEqual(snaps);
    // Random access, backwards and across chunks.
    for (const i of [24, 3, 17, 16, 0, 9, 8, 24]) expect(reader.sample(i)).toEqual(snaps[i]);
    expect([...reader.samples(5, 9)]).toEqual(snaps.slice(5, 9));
    reader.close();
  });

  it('finds samples by time', () => {
    const reader = RecordingReader.open(path);
    expect(reader.indexAtTime(snaps[0].wallMs - 5000)).toBe(0);
    expect(reader.indexAtTime(snaps[13].wallMs)).toBe(13);
    expect(reader.indexAtTime(snaps[13].wallMs + 999)).toBe(13);
    expect(reader.indexAtTime(snaps[24].wallMs + 1e6)).toBe(24);
    reader.close();
  });

  it('reports progress and, when verifying, the same index', () => {
    const seen: number[] = [];
    const reader = RecordingReader.open(path, { verify: true, onProgress: (done, total) => seen.push(done / total) });
    expect(reader.count).toBe(25);
    expect(reader.damage).toEqual([]);
    expect(seen.at(-1)).toBe(1);
    reader.close();
  });

  it('refuses what is not a recording, or is from a newer whytop', () => {
    const other = tmp('not-a-recording.txt');
    writeFileSync(other, 'hello\n');
    expect(() => RecordingReader.open(other)).toThrow(RecordingError);
    writeFileSync(other, withFormatVersion(readFileSync(path), 99));
    expect(() => RecordingReader.open(other)).toThrow(`${other}: recording format v99 is newer than this whytop supports (v1): upgrade whytop`);
  });
});

describe('RecordingReader on a recording cut off at every byte', () => {
  // Small samples (no vmstat, meminfo, softirqs) keep the file, and so the number of cuts, small.
  const snaps = smallSeries(5, 8).map((s) => ({ ...s, vmstat: null, meminfoKb: null, softirqs: null }));

  it('closed chunks: opens, keeps every whole sample, reports missing bytes', async () => {
    const bytes = await record('cut-closed.whytop', snaps, 2);
    const { headerEnd, frameEnds, chunkEnds } = layout(bytes);
    expect(chunkEnds.length).toBe(3);
    for (let cut = 0; cut < bytes.length; cut++) {
      if (cut < headerEnd) {
        expect(() => readAll(bytes.subarray(0, cut))).toThrow(RecordingError);
        continue;
      }
      const { reader, samples } = readAll(bytes.subarray(0, cut));
      const intact = frameEnds.filter((e) => e <= cut).length;
      expect(reader.count, `cut at ${cut}`).toBe(intact);
      expect(sameSnapshots(samples, snaps.slice(0, intact)), `samples at cut ${cut}`).toBe(true);
      const clean = cut === headerEnd || chunkEnds.includes(cut);
      expect(reader.damage.length > 0, `damage at cut ${cut}`).toBe(!clean);
    }
  });

  it('a chunk left open by a crash: the same, every frame boundary is a clean end', async () => {
    const bytes = await record('cut-open.whytop', snaps, 100, true);
    const { headerEnd, frameEnds } = layout(bytes);
    expect(frameEnds.length).toBe(5);
    for (let cut = headerEnd; cut <= bytes.length; cut++) {
      const { reader, samples } = readAll(bytes.subarray(0, cut));
      const intact = frameEnds.filter((e) => e <= cut).length;
      expect(reader.count, `cut at ${cut}`).toBe(intact);
      expect(sameSnapshots(samples, snaps.slice(0, intact)), `samples at cut ${cut}`).toBe(true);
      const clean = cut === headerEnd || frameEnds.includes(cut);
      expect(reader.damage.length > 0, `damage at cut ${cut}`).toBe(!clean);
    }
  });
});

describe('RecordingReader on damaged recordings', () => {
  const snaps = smallSeries(24, 30, 3);
  let bytes: Buffer = Buffer.alloc(0);
  beforeAll(async () => {
    bytes = await record('damaged.whytop', snaps, 4);
  });

  it('loses at most the chunks that random corruption hits, never throws', () => {
    const { headerEnd, chunkRanges } = layout(bytes);
    const rand = seededRandom(1234);
    for (let trial = 0; trial < 300; trial++) {
      const bad = Buffer.from(bytes);
      const hits: number[] = [];
      for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
        const at = headerEnd + Math.floor(rand() * (bytes.length - headerEnd));
        bad[at] ^= 1 + Math.floor(rand() * 255);
        hits.push(at);
      }
      const maxLost = chunkRanges.filter(([start, end]) => hits.some((h) => h >= start && h < end)).reduce((n, [, , count]) => n + count, 0);
      for (const verify of [false, true]) {
        const { reader, samples } = readAll(bad, { verify });
        const originals = samples.map((s) => snaps.find((o) => o.wallMs === s.wallMs)!);
        expect(sameSnapshots(samples, originals), `trial ${trial}, hits ${hits}`).toBe(true);
        expect(new Set(samples.map((s) => s.wallMs)).size).toBe(samples.length);
        expect(snaps.length - samples.length, `trial ${trial}, hits ${hits}`).toBeLessThanOrEqual(maxLost);
        if (samples.length < snaps.length) expect(reader.damage.length).toBeGreaterThan(0);
      }
    }
  });

  it('recognises a zero-filled tail as damage, not samples', () => {
    const { reader, samples } = readAll(Buffer.concat([bytes, Buffer.alloc(8192)]));
    expect(samples).toEqual(snaps);
    expect(reader.damage).toEqual([{ offset: bytes.length, bytes: 8192, what: 'zero-filled bytes' }]);
  });

  it('keeps the samples before zeros that overwrote the end of a chunk left open', async () => {
    const open = await record('zeroed-open.whytop', snaps.slice(0, 6), 100, true);
    const { frameEnds } = layout(open);
    const zeroFrom = frameEnds[3] + 10;
    const zeroed = Buffer.concat([open.subarray(0, zeroFrom), Buffer.alloc(open.length - zeroFrom + 4096)]);
    const { reader, samples } = readAll(zeroed);
    expect(samples).toEqual(snaps.slice(0, 4));
    expect(reader.damage.length).toBeGreaterThan(0);
  });

  it('does not trust lengths in a forged chunk header, nor hang on garbage', () => {
    const { headerEnd } = layout(bytes);
    const forged = encodeChunkHeader({ closed: true, count: 1_000_000, bodyBytes: 60 * 1024 * 1024, recordBytes: 60 * 1024 * 1024, firstWallMs: 0, lastWallMs: 0 });
    const rand = seededRandom(99);
    const garbage = Buffer.from(Array.from({ length: 200_000 }, () => Math.floor(rand() * 256)));
    const file = Buffer.concat([bytes.subarray(0, headerEnd), forged, garbage, bytes.subarray(headerEnd)]);
    const { reader, samples } = readAll(file, { verify: true });
    expect(samples).toEqual(snaps);
    expect(reader.damage.length).toBeGreaterThan(0);
    const { samples: unverified } = readAll(file);
    expect(unverified).toEqual(snaps);
  });
});

describe('RecordingReader on hostile input: work linear in the file size', () => {
  const MiB = 1024 * 1024;
  const snaps = smallSeries(10, 20, 5);
  let bytes: Buffer = Buffer.alloc(0);
  beforeAll(async () => {
    bytes = await record('hostile-base.whytop', snaps, 4);
  });

  /** `unit` repeated to `total` bytes. */
  const repeated = (unit: Buffer, total: number): Buffer => Buffer.concat(Array<Buffer>(Math.ceil(total / unit.length)).fill(unit)).subarray(0, total);

  /** A chunk header (valid or with a broken checksum) and a first frame header claiming `frameBytes`, padded to `unitBytes`. */
  function plausibleChunk(frameBytes: number, validHeader: boolean, unitBytes: number): Buffer {
    const header = validHeader
      ? encodeChunkHeader({ closed: false, count: 0, bodyBytes: 0, recordBytes: 0, firstWallMs: 1, lastWallMs: 1 })
      : encodeChunkHeader({ closed: true, count: 3, bodyBytes: 100_000, recordBytes: 5000, firstWallMs: 1, lastWallMs: 2 });
    if (!validHeader) header[CHUNK_HEADER_BYTES - 1] ^= 0xff;
    const frame = Buffer.alloc(FRAME_HEADER_BYTES);
    frame.writeUInt32LE(frameBytes, 0);
    frame.writeUInt32LE(1000, 4);
    frame.writeDoubleLE(1, 8);
    return Buffer.concat([header, frame, Buffer.alloc(unitBytes - CHUNK_HEADER_BYTES - FRAME_HEADER_BYTES, 7)]);
  }

  /** Scans `file` (verifying or not), timing it, and reads its samples. */
  function scanFile(file: Buffer, verify: boolean): { scan: Scan; ms: number; samples: Snapshot[] } {
    const path = tmp('hostile.whytop');
    writeFileSync(path, file);
    const fd = openSync(path, 'r');
    const started = performance.now();
    let scan: Scan;
    try {
      scan = scanRecording(fd, { verify });
    } finally {
      closeSync(fd);
    }
    const ms = performance.now() - started;
    const reader = RecordingReader.open(path, { verify });
    const samples = [...reader.samples()];
    reader.close();
    return { scan, ms, samples };
  }

  const GARBAGE = 3 * MiB;
  it.each([
    ['repeated chunk magics', () => repeated(CHUNK_MAGIC, GARBAGE)],
    ['chunk magics every 48 bytes', () => repeated(Buffer.concat([CHUNK_MAGIC, Buffer.alloc(40)]), GARBAGE)],
    ['damaged headers whose first frame claims 5000 bytes', () => repeated(plausibleChunk(5000, false, 128), GARBAGE)],
    ['damaged headers whose first frame claims the rest of the file', () => repeated(plausibleChunk(GARBAGE - 1000, false, 100), GARBAGE)],
    ['valid open headers whose first frame claims the rest of the file', () => repeated(plausibleChunk(GARBAGE - 1000, true, 100), GARBAGE)],
  ])('%s: reads and checks each byte a bounded number of times, keeps every sample, reports the damage', (_name, garbage) => {
    const { headerEnd } = layout(bytes);
    const file = Buffer.concat([bytes.subarray(0, headerEnd), garbage(), bytes.subarray(headerEnd)]);
    for (const verify of [false, true]) {
      const { scan, ms, samples } = scanFile(file, verify);
      expect(scan.readBytes, `bytes read (verify ${verify})`).toBeLessThanOrEqual(3 * file.length);
      expect(scan.checkedBytes, `bytes checksummed (verify ${verify})`).toBeLessThanOrEqual(3 * file.length);
      expect(samples).toEqual(snaps);
      // The garbage and nothing else is damage, in a bounded number of entries.
      expect(scan.damage.length).toBeLessThanOrEqual(100);
      expect(scan.damage[0].offset).toBe(headerEnd);
      for (let k = 1; k < scan.damage.length; k++) expect(scan.damage[k].offset).toBe(scan.damage[k - 1].offset + scan.damage[k - 1].bytes);
      expect(scan.damage.reduce((n, d) => n + d.bytes, 0)).toBe(GARBAGE);
      // A generous bound on the machine's time, as a second guard (the quadratic reader took minutes).
      expect(ms).toBeLessThan(10_000);
    }
  });

  it('reads an intact recording once when verifying, and hardly at all when not', () => {
    const { scan } = scanFile(bytes, true);
    expect(scan.readBytes).toBeLessThanOrEqual(bytes.length);
    expect(scan.checkedBytes).toBeLessThanOrEqual(bytes.length);
    const quick = scanFile(bytes, false).scan;
    expect(quick.checkedBytes).toBe(0);
  });
});
