// Recording benchmark: writes a 24-hour recording (86 400 samples, one a second, 1000 threads; the
// synthetic host of test/store/synthetic.ts) to a temp dir, then, in a fresh process, opens it and
// seeks to random times.
//
//   npm run bench:recording -- [--samples 86400] [--threads 1000] [--seeks 20] [--keep]
//
// Reports bytes per sample (target ≤ 2.2 KB at 1000 threads, a tenth of atop's ~22 KB), write cost
// per sample, time to open the file, time to seek to a random time and decode that sample (median
// and worst), time per sample when stepping forward, and the peak RSS of the writer and the reader.
// The file was just written, so it is read from the page cache.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Recorder } from '../src/store/recorder.js';
import { RecordingReader } from '../src/store/reader.js';
import { seededRandom, syntheticSeries } from '../test/store/synthetic.js';
import { upperMedian } from './stats.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Reader half, run in its own process so that its peak RSS is its own. */
function readPhase(path: string, seeks: number): void {
  const baseRssMiB = process.memoryUsage().rss / 2 ** 20;
  const t0 = performance.now();
  const reader = RecordingReader.open(path);
  const openMs = performance.now() - t0;
  const r = seededRandom(7);
  const first = reader.firstWallMs!;
  const span = reader.lastWallMs! - first;
  const seekMs: number[] = [];
  for (let k = 0; k < seeks; k++) {
    const t = performance.now();
    const i = reader.indexAtTime(first + r() * span);
    if (!reader.sample(i)) throw new Error(`sample ${i} did not decode`);
    seekMs.push(performance.now() - t);
  }
  const from = reader.indexAtTime(first + r() * span);
  const t1 = performance.now();
  let stepped = 0;
  for (const _ of reader.samples(from, from + 300)) stepped++;
  const stepMs = (performance.now() - t1) / stepped;
  const result = { samples: reader.count, chunks: reader.chunks.length, damage: reader.damage.length, openMs, seekMs, stepMs, baseRssMiB, peakRssMiB: peakRssMiB() };
  reader.close();
  process.stdout.write(JSON.stringify(result));
}

async function main(): Promise<void> {
  const samples = option('--samples', 86_400);
  const threads = option('--threads', 1000);
  const seeks = option('--seeks', 20);
  const dir = mkdtempSync(join(tmpdir(), 'whytop-bench-recording-'));
  const path = join(dir, 'day.whytop');
  try {
    const next = syntheticSeries(threads, Math.max(1, Math.round(threads / 10)));
    const first = next();
    const recorder = Recorder.open(path, first.host);
    let writeMs = 0;
    for (let i = 0; i < samples; i++) {
      const s = i === 0 ? first : next();
      const t = performance.now();
      await recorder.append(s);
      writeMs += performance.now() - t;
      if (process.stderr.isTTY && i % 1000 === 0) process.stderr.write(`\rwriting sample ${i} / ${samples}`);
    }
    await recorder.close();
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    const bytes = statSync(path).size;
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--read', path, '--seeks', String(seeks)], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (child.status !== 0) throw new Error(`reader failed: ${child.stderr}`);
    const read = JSON.parse(child.stdout) as { samples: number; chunks: number; damage: number; openMs: number; seekMs: number[]; stepMs: number; baseRssMiB: number; peakRssMiB: number };
    const lines = [
      `recording: ${samples} samples, ${threads} threads, ${read.chunks} chunks, ${(bytes / 2 ** 20).toFixed(1)} MiB`,
      `bytes per sample:     ${(bytes / samples).toFixed(0)} B (target ≤ 2200 B)`,
      `write per sample:     ${(writeMs / samples).toFixed(2)} ms (encode + compress + write)`,
      `writer peak RSS:      ${peakRssMiB().toFixed(0)} MiB`,
      `open:                 ${read.openMs.toFixed(1)} ms (${read.samples} samples, ${read.damage} damage)`,
      `seek + decode:        median ${upperMedian(read.seekMs).toFixed(1)} ms, worst ${Math.max(...read.seekMs).toFixed(1)} ms over ${seeks} random times`,
      `step forward:         ${read.stepMs.toFixed(2)} ms per sample`,
      `reader peak RSS:      ${read.peakRssMiB.toFixed(0)} MiB (${read.baseRssMiB.toFixed(0)} MiB before opening the file)`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    if (process.argv.includes('--keep')) process.stdout.write(`kept ${path}\n`);
  } finally {
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

const readIndex = process.argv.indexOf('--read');
if (readIndex >= 0) readPhase(process.argv[readIndex + 1], option('--seeks', 20));
else await main();
