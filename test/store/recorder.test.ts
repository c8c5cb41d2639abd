// Recording to a file: privacy, appending, refusing, and surviving crashes.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/model/snapshot.js';
import { Sampler } from '../../src/sources/sampler.js';
import { RecordingError } from '../../src/store/format.js';
import { RecordingReader } from '../../src/store/reader.js';
import { Recorder } from '../../src/store/recorder.js';
import { History } from '../../src/store/history.js';
import { lockPathOf } from '../../src/store/writeLock.js';
import { sameSnapshots, smallSeries, tempDir, withFormatVersion, withoutCmdlines } from './helpers.js';

const tmp = tempDir();
const CHUNKS_OF_4 = { maxSamples: 4, targetBodyBytes: 1 << 22 };
const CRASH_CHILD = fileURLToPath(new URL('./crashChild.ts', import.meta.url));

/** Starts crashChild.ts recording to `path`; resolves once it has appended `samples` samples. */
async function recordingChild(path: string, samples: number): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, ['--import', 'tsx', CRASH_CHILD, path]);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`child exited with ${code}: ${stderr}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      if (Number(chunk.toString().trim().split('\n').pop()) >= samples) resolve();
    });
  });
  child.removeAllListeners('exit');
  return child;
}

/** Kills `child` with SIGKILL and waits for it to be gone. */
async function kill(child: ChildProcessWithoutNullStreams): Promise<void> {
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}

function readAll(path: string): { reader: RecordingReader; samples: Snapshot[] } {
  const reader = RecordingReader.open(path);
  const samples = [...reader.samples()];
  reader.close();
  return { reader, samples };
}

describe('Recorder', () => {
  it('creates a file only its owner can read, and live snapshots replay identically', async () => {
    const path = tmp('live.whytop');
    const sampler = new Sampler();
    const rec = Recorder.open(path, sampler.host);
    const snaps = [];
    for (let i = 0; i < 3; i++) {
      const s = sampler.sample();
      snaps.push(s);
      await rec.append(s);
    }
    sampler.close();
    await rec.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(rec.samples).toBe(3);
    expect(rec.bytes).toBe(statSync(path).size);
    const { reader, samples } = readAll(path);
    expect(reader.header.recordsCmdlines).toBe(false);
    expect(samples).toEqual(snaps.map(withoutCmdlines));
  });

  it('appends to a recording of the same host', async () => {
    const path = tmp('append.whytop');
    const snaps = smallSeries(10);
    const first = Recorder.open(path, snaps[0].host, { recordCmdlines: true, chunkLimits: CHUNKS_OF_4 });
    for (const s of snaps.slice(0, 6)) await first.append(s);
    await first.close();
    const again = Recorder.open(path, snaps[0].host, { recordCmdlines: true, chunkLimits: CHUNKS_OF_4 });
    expect(again.repaired).toEqual([]);
    expect(again.header.startWallMs).toBe(first.header.startWallMs);
    for (const s of snaps.slice(6)) await again.append(s);
    await again.close();
    const { reader, samples } = readAll(path);
    expect(reader.damage).toEqual([]);
    expect(samples).toEqual(snaps);
  });

  it('refuses, leaving the file untouched, another host or a different cmdline setting', async () => {
    const path = tmp('other-host.whytop');
    const [s] = smallSeries(1);
    const rec = Recorder.open(path, s.host);
    await rec.append(s);
    await rec.close();
    const before = readFileSync(path);
    expect(() => Recorder.open(path, { ...s.host, hostname: 'elsewhere' })).toThrow(/recording is from host name ".*", this host has "elsewhere": record to a new file/);
    expect(() => Recorder.open(path, { ...s.host, cpuCount: s.host.cpuCount + 1 })).toThrow(RecordingError);
    expect(() => Recorder.open(path, s.host, { recordCmdlines: true })).toThrow(/without command lines/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses to append after a reboot into another kernel or Meltdown state, leaving the file untouched', async () => {
    const path = tmp('rebooted.whytop');
    const [s] = smallSeries(1);
    const host = { ...s.host, kernelRelease: '6.1.0-18-amd64', meltdown: 'Mitigation: PTI' };
    const rec = Recorder.open(path, host);
    await rec.append({ ...s, host });
    await rec.close();
    const before = readFileSync(path);
    expect(() => Recorder.open(path, { ...host, kernelRelease: '6.18.0-1-amd64' })).toThrow(
      `${path}: recording is from kernel release "6.1.0-18-amd64", this host has "6.18.0-1-amd64": record to a new file`,
    );
    expect(() => Recorder.open(path, { ...host, meltdown: 'Not affected' })).toThrow(/recording is from Meltdown mitigation state "Mitigation: PTI", this host has "Not affected"/);
    expect(() => Recorder.open(path, { ...host, meltdown: null })).toThrow(/Meltdown mitigation state/);
    expect(readFileSync(path).equals(before)).toBe(true);
    const same = Recorder.open(path, host);
    await same.close();
  });

  it('lets one writer at a time write a recording, in this process or another', async () => {
    const path = tmp('locked.whytop');
    const [s] = smallSeries(1);
    const first = Recorder.open(path, s.host);
    await first.append(s);
    expect(existsSync(lockPathOf(path))).toBe(true);
    expect(() => Recorder.open(path, s.host)).toThrow(`${path} is being written by this whytop: refusing a second writer (lock ${lockPathOf(path)})`);
    // The same file by another name.
    const link = tmp('locked-link.whytop');
    symlinkSync(path, link);
    expect(() => Recorder.open(link, s.host)).toThrow(/is being written by this whytop/);
    await first.close();
    expect(existsSync(lockPathOf(path))).toBe(false);
    const second = Recorder.open(link, s.host);
    await second.close();

    const shared = tmp('shared.whytop');
    const child = await recordingChild(shared, 3);
    try {
      expect(() => Recorder.open(shared, s.host, { recordCmdlines: true })).toThrow(new RegExp(`is being written by process ${child.pid}: refusing a second writer`));
      // W (saving the kept history) does not write to it either.
      const history = new History();
      await history.append(s);
      await expect(history.saveTo(shared)).rejects.toThrow(/is being written by process/);
    } finally {
      await kill(child);
    }
    // The writer was killed: its lock is stale and taken over; what it wrote is intact.
    expect(existsSync(lockPathOf(shared))).toBe(true);
    const after = Recorder.open(shared, s.host, { recordCmdlines: true });
    await after.append(s);
    await after.close();
    expect(readAll(shared).reader.count).toBeGreaterThanOrEqual(4);
  });

  it('takes over a lock left by a process that no longer runs, or from before a reboot', async () => {
    const [s] = smallSeries(1);
    for (const [name, text] of [
      ['dead.whytop', '999999999 12345 -\n'],
      ['rebooted-lock.whytop', `${process.ppid} 1 00000000-0000-0000-0000-000000000000\n`],
      ['pid-reused.whytop', `${process.ppid} 1 -\n`],
    ]) {
      const path = tmp(name);
      writeFileSync(lockPathOf(path), text);
      const rec = Recorder.open(path, s.host);
      expect(readFileSync(lockPathOf(path), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
      await rec.close();
      expect(existsSync(lockPathOf(path))).toBe(false);
    }
    // A live process's lock is respected.
    const path = tmp('parent.whytop');
    writeFileSync(lockPathOf(path), `${process.ppid} - -\n`);
    expect(() => Recorder.open(path, s.host)).toThrow(`is being written by process ${process.ppid}`);
    expect(existsSync(path)).toBe(false);
  });

  it('never overwrites a file that is not a recording; takes over an empty one', async () => {
    const path = tmp('precious.txt');
    writeFileSync(path, 'my notes\n');
    const [s] = smallSeries(1);
    expect(() => Recorder.open(path, s.host)).toThrow(`${path}: not a whytop recording: refusing to write to it`);
    expect(readFileSync(path, 'utf8')).toBe('my notes\n');
    expect(() => Recorder.open(tmp(''), s.host)).toThrow();
    const empty = tmp('empty.whytop');
    writeFileSync(empty, '', { mode: 0o644 });
    const rec = Recorder.open(empty, s.host);
    await rec.append(s);
    await rec.close();
    expect(statSync(empty).mode & 0o777).toBe(0o600);
    expect(readAll(empty).reader.count).toBe(1);
  });

  it('refuses to append to a recording from a newer whytop', () => {
    const path = tmp('v99.whytop');
    const [s] = smallSeries(1);
    writeFileSync(path, withFormatVersion(readFileSync(new URL('../fixtures/recordings/v1.whytop', import.meta.url)), 99));
    expect(() => Recorder.open(path, s.host)).toThrow(/recording format v99 is newer than this whytop supports \(v1\): upgrade whytop/);
  });

  it('after a crash, closes the open chunk, cuts the torn tail and continues cleanly', async () => {
    const path = tmp('torn.whytop');
    const snaps = smallSeries(9);
    const crashed = Recorder.open(path, snaps[0].host, { recordCmdlines: true, chunkLimits: CHUNKS_OF_4 });
    for (const s of snaps.slice(0, 6)) await crashed.append(s);
    // Sample 6 was being written: only part of its frame reached the file.
    const beforeTorn = statSync(path).size;
    await crashed.append(snaps[6]);
    // The file as the crash left it (closing only releases the recorder and its lock).
    const image = readFileSync(path).subarray(0, beforeTorn + 30);
    await crashed.close();
    writeFileSync(path, image);
    const again = Recorder.open(path, snaps[0].host, { recordCmdlines: true, chunkLimits: CHUNKS_OF_4 });
    expect(again.repaired.length).toBe(1);
    expect(again.bytes).toBe(beforeTorn);
    for (const s of snaps.slice(7)) await again.append(s);
    await again.close();
    const { reader, samples } = readAll(path);
    expect(reader.damage).toEqual([]);
    expect(reader.chunks.every((c) => c.closed)).toBe(true);
    expect(samples).toEqual([...snaps.slice(0, 6), ...snaps.slice(7)]);
  });

  it.each([3, 17, 42])('keeps every sample whose append returned before a SIGKILL (after %i)', async (killAfter) => {
    const path = tmp(`killed-${killAfter}.whytop`);
    const child = spawn(process.execPath, ['--import', 'tsx', CRASH_CHILD, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code}: ${stderr}`))));
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = chunk.toString().trim().split('\n');
        acked = Math.max(acked, Number(lines[lines.length - 1]));
        if (acked >= killAfter) child.kill('SIGKILL');
      });
    });
    const { reader, samples } = readAll(path);
    expect(reader.count).toBeGreaterThanOrEqual(acked);
    expect(sameSnapshots(samples.slice(0, acked), smallSeries(acked))).toBe(true);
    // Appending afterwards continues after the last intact sample.
    const more = smallSeries(reader.count + 2).slice(reader.count);
    const rec = Recorder.open(path, more[0].host, { recordCmdlines: true });
    for (const s of more) await rec.append(s);
    await rec.close();
    const after = readAll(path);
    expect(after.reader.damage).toEqual([]);
    expect(after.reader.count).toBe(reader.count + 2);
  });
});
