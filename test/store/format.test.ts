// The recording format's pieces: crc32, headers, and snapshots through a chunk and back.
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/model/snapshot.js';
import { Sampler } from '../../src/sources/sampler.js';
import {
  ChunkEncoder,
  ChunkSamples,
  crc32,
  decodeChunkHeader,
  decodeFileHeader,
  encodeChunkHeader,
  encodeFileHeader,
  FORMAT_VERSION,
  RecordingError,
  WHYTOP_VERSION,
  walkFrames,
  type RecordingHeader,
} from '../../src/store/format.js';
import { fixtureSnapshot, smallSeries, withFormatVersion, withoutCmdlines } from './helpers.js';

function headerFor(s: Snapshot, recordsCmdlines = true): RecordingHeader {
  return { formatVersion: FORMAT_VERSION, whytopVersion: WHYTOP_VERSION, host: s.host, startWallMs: s.wallMs, recordsCmdlines };
}

/** Encodes `snaps` as one chunk and decodes every sample back. */
async function roundTrip(snaps: Snapshot[], recordsCmdlines = true): Promise<Snapshot[]> {
  const encoder = new ChunkEncoder(recordsCmdlines);
  const frames: Buffer[] = [];
  for (const s of snaps) frames.push(await encoder.encode(s));
  encoder.dispose();
  const chunk = new ChunkSamples(headerFor(snaps[0], recordsCmdlines), Buffer.concat(frames));
  expect(chunk.count).toBe(snaps.length);
  return snaps.map((_, i) => chunk.sample(i));
}

describe('crc32', () => {
  it('is the zlib crc32, also when continued', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog');
    expect(crc32(data)).toBe(0x414fa339);
    expect(crc32(data.subarray(10), crc32(data.subarray(0, 10)))).toBe(0x414fa339);
    const zcrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
    if (zcrc) expect(crc32(Buffer.alloc(1000, 7))).toBe(zcrc(Buffer.alloc(1000, 7)));
  });
});

describe('file header', () => {
  const header = headerFor(fixtureSnapshot());

  it('round-trips', () => {
    const bytes = encodeFileHeader(header);
    expect(decodeFileHeader(Buffer.concat([bytes, Buffer.from('more')]))).toEqual({ header, bytes: bytes.length });
  });

  it('refuses a newer format version with a clear message', () => {
    const bytes = withFormatVersion(encodeFileHeader(header), 99);
    expect(() => decodeFileHeader(bytes)).toThrow(new RecordingError(`recording format v99 is newer than this whytop supports (v${FORMAT_VERSION}): upgrade whytop`));
  });

  it('says why a file is not a readable recording', () => {
    const bytes = encodeFileHeader(header);
    expect(() => decodeFileHeader(Buffer.alloc(0))).toThrow(/empty file/);
    expect(() => decodeFileHeader(Buffer.from('#!/bin/sh\necho hello\n'))).toThrow(/not a whytop recording/);
    expect(() => decodeFileHeader(bytes.subarray(0, 5))).toThrow(/cut off/);
    expect(() => decodeFileHeader(bytes.subarray(0, bytes.length - 1))).toThrow(/cut off/);
    const flipped = Buffer.from(bytes);
    flipped[30] ^= 1;
    expect(() => decodeFileHeader(flipped)).toThrow(/damaged/);
    const unchecked = Buffer.from(bytes);
    unchecked.writeUInt32LE(99, 8);
    expect(() => decodeFileHeader(unchecked)).toThrow(/damaged/);
    const huge = Buffer.from(bytes);
    huge.writeUInt32LE(0xffffffff, 12);
    expect(() => decodeFileHeader(huge)).toThrow(/damaged/);
  });
});

describe('chunk header', () => {
  it('round-trips and rejects damage', () => {
    const h = { closed: true, count: 3, bodyBytes: 900, recordBytes: 5000, firstWallMs: 1.5e12, lastWallMs: 1.5e12 + 2000 };
    const bytes = encodeChunkHeader(h);
    expect(decodeChunkHeader(bytes)).toEqual(h);
    for (let i = 0; i < bytes.length; i++) {
      const bad = Buffer.from(bytes);
      bad[i] ^= 0x10;
      expect(decodeChunkHeader(bad)).toBeNull();
    }
    expect(decodeChunkHeader(Buffer.alloc(48))).toBeNull();
  });
});

describe('snapshots through a chunk', () => {
  it('round-trip the fixture tree exactly, host restored from the header', async () => {
    const s = fixtureSnapshot();
    const [back] = await roundTrip([s]);
    expect(back).toEqual(s);
    expect(back.taskSample.tasks.runNs).toBeInstanceOf(Float64Array);
    expect(back.host).toEqual(s.host);
  });

  it('round-trip live /proc snapshots exactly', async () => {
    const sampler = new Sampler();
    const snaps = [sampler.sample()];
    await new Promise((r) => setTimeout(r, 200));
    snaps.push(sampler.sample(new Set([process.pid])));
    sampler.close();
    expect(await roundTrip(snaps)).toEqual(snaps);
  });

  it('round-trip a series where tasks come, go and change order', async () => {
    const snaps = smallSeries(30);
    // Reverse the rows of one sample and drop some from another.
    const tasks = snaps[10].taskSample.tasks;
    for (const col of Object.values(tasks)) {
      if (col instanceof Float64Array) col.reverse();
      else if (Array.isArray(col)) col.reverse();
    }
    tasks.state = [...tasks.state].reverse().join('');
    const t20 = snaps[20].taskSample.tasks;
    for (const [name, col] of Object.entries(t20)) if (col instanceof Float64Array) (t20 as unknown as Record<string, unknown>)[name] = col.subarray(5);
    t20.comm = t20.comm.slice(5);
    t20.wchan = t20.wchan.slice(5);
    t20.state = t20.state.slice(5);
    t20.count -= 5;
    expect(await roundTrip(snaps)).toEqual(snaps);
  });

  it('keep NaN, -0, fractions, infinities and huge values in columns', async () => {
    const snaps = smallSeries(3);
    const values = [NaN, -0, 0.5, -1.25, Infinity, -Infinity, 2 ** 60, -(2 ** 53), Number.MAX_VALUE, 5e-324];
    values.forEach((v, i) => {
      snaps[1].taskSample.tasks.runNs[i] = v;
      snaps[2].taskSample.tasks.runNs[i] = values[(i + 3) % values.length];
      snaps[2].taskSample.procs.rchar[i % snaps[2].taskSample.procs.count] = v;
    });
    const back = await roundTrip(snaps);
    expect(back).toEqual(snaps);
    expect(Object.is(back[1].taskSample.tasks.runNs[1], -0)).toBe(true);
  });

  it('store cmdlines as null unless asked to record them', async () => {
    const s = smallSeries(2);
    expect(s[0].taskSample.procs.cmdline.some((c) => c !== null)).toBe(true);
    expect(await roundTrip(s, false)).toEqual(s.map(withoutCmdlines));
  });

  it('hand out snapshots of their own', async () => {
    const snaps = smallSeries(3);
    const encoder = new ChunkEncoder(true);
    const body = Buffer.concat([await encoder.encode(snaps[0]), await encoder.encode(snaps[1]), await encoder.encode(snaps[2])]);
    encoder.dispose();
    const chunk = new ChunkSamples(headerFor(snaps[0]), body);
    chunk.sample(0).taskSample.tasks.vcsw.fill(-1);
    chunk.sample(1).taskSample.tasks.comm.fill('x');
    expect(chunk.sample(2)).toEqual(snaps[2]);
  });

  it('decode the intact frames of a body cut anywhere', async () => {
    const snaps = smallSeries(4);
    const encoder = new ChunkEncoder(true);
    const frames: Buffer[] = [];
    for (const s of snaps) frames.push(await encoder.encode(s));
    encoder.dispose();
    const body = Buffer.concat(frames);
    let end = 0;
    const ends = frames.map((f) => (end += f.length));
    for (let cut = 0; cut <= body.length; cut += 7) {
      const intact = ends.filter((e) => e <= cut).length;
      expect(walkFrames(body.subarray(0, cut)).frames.length).toBe(intact);
      const chunk = new ChunkSamples(headerFor(snaps[0]), body.subarray(0, cut));
      for (let i = 0; i < intact; i++) expect(chunk.sample(i)).toEqual(snaps[i]);
    }
  });
});
