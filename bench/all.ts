// `npm run bench`: the reader and TUI benchmarks (options passed on to bench/tui.ts, which hands the
// reader's to bench/sampler.ts), then the recording benchmark, then (as root) what the kernel
// probes cost other programs, each with its defaults.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const here = import.meta.dirname;
const tsx = path.join(here, '../node_modules/.bin/tsx');
const runs: Array<[string, string[]]> = [
  ['tui.ts', ['--with-sampler', ...process.argv.slice(2)]],
  ['recording.ts', []],
];
if (process.getuid?.() === 0) runs.push(['probes.ts', []]);
else console.log('bench: skipping the kernel probe overhead (bench/probes.ts needs root)');
for (const [script, args] of runs) {
  const r = spawnSync(tsx, [path.join(here, script), ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
