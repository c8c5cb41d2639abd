// Helpers shared by the recording tests: temp files, expected snapshots, JSON for the version fixtures.
import { mkdtempSync, rmSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { Snapshot } from '../../src/model/snapshot.js';
import { crc32 } from '../../src/store/format.js';
import { Sampler } from '../../src/sources/sampler.js';
import { syntheticSeries, THREADS_FIXTURE } from './synthetic.js';

/** A temp dir removed after the test file; returns a function giving paths inside it. */
export function tempDir(): (name: string) => string {
  const dir = mkdtempSync(join(tmpdir(), 'whytop-store-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return (name) => join(dir, name);
}

/** Whether two lists of snapshots are identical (fast enough for loops over thousands of files). */
export function sameSnapshots(a: Snapshot[], b: Snapshot[]): boolean {
  return isDeepStrictEqual(a, b);
}

/** `s` as a recording made without --cmdline gives it back: every cmdline null. */
export function withoutCmdlines(s: Snapshot): Snapshot {
  const procs = s.taskSample.procs;
  return { ...s, taskSample: { ...s.taskSample, procs: { ...procs, cmdline: new Array<string | null>(procs.count).fill(null) } } };
}

/** One snapshot of the fixture proc tree (odd names, missing files, NaN columns). */
export function fixtureSnapshot(): Snapshot {
  const sampler = new Sampler({ procRoot: THREADS_FIXTURE, noNative: true });
  try {
    return sampler.sample('all');
  } finally {
    sampler.close();
  }
}

/** `n` snapshots of a small synthetic host (threads come and go), one second apart. */
export function smallSeries(n: number, threads = 40, seed = 1): Snapshot[] {
  const next = syntheticSeries(threads, Math.max(1, Math.round(threads / 10)), seed);
  return Array.from({ length: n }, () => next());
}

/** JSON of a snapshot that keeps Float64Array columns, NaN, infinities and -0. */
export function snapshotToJson(s: Snapshot): unknown {
  return JSON.parse(
    JSON.stringify(s, (_key, value: unknown) => {
      if (value instanceof Float64Array) return { f64: Array.from(value, (v) => (Number.isFinite(v) && !Object.is(v, -0) ? v : String(v === 0 ? '-0' : v))) };
      return value;
    }),
  );
}

/** The inverse of snapshotToJson. */
export function snapshotFromJson(json: unknown): Snapshot {
  return JSON.parse(JSON.stringify(json), (_key, value: unknown) => {
    if (value && typeof value === 'object' && 'f64' in value && Array.isArray(value.f64)) {
      return Float64Array.from(value.f64 as Array<number | string>, (v) => (typeof v === 'number' ? v : v === '-0' ? -0 : Number(v)));
    }
    return value;
  }) as Snapshot;
}

/** A copy of a recording whose header claims format version `v` (checksum fixed), as a newer whytop would write. */
export function withFormatVersion(recording: Buffer, v: number): Buffer {
  const bytes = Buffer.from(recording);
  const end = 16 + bytes.readUInt32LE(12);
  bytes.writeUInt32LE(v, 8);
  bytes.writeUInt32LE(crc32(bytes.subarray(0, end)), end);
  return bytes;
}
