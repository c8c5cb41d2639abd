// Writes the recording fixture of the current format version: test/fixtures/recordings/vN.whytop and
// vN.json (the snapshots it must decode to). Run once per format version and commit both files; the
// fixtures of older versions stay as they are, so that version skew stays tested.
//
//   npx tsx scripts/make-recording-fixtures.ts
//
// Sample 0 is the fixture proc tree test/fixtures/proc/threads (odd names, missing files, NaN),
// samples 1..6 a small synthetic host whose threads come and go; chunks of 4 samples, command lines
// recorded.
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FORMAT_VERSION } from '../src/store/format.js';
import { Recorder } from '../src/store/recorder.js';
import { fixtureSnapshot, smallSeries, snapshotToJson } from '../test/store/helpers.js';

const dir = fileURLToPath(new URL('../test/fixtures/recordings/', import.meta.url));
const path = `${dir}v${FORMAT_VERSION}.whytop`;
if (existsSync(path)) throw new Error(`${path} exists: fixtures of a released format version never change`);
const series = smallSeries(6, 20, 5);
const fixture = fixtureSnapshot();
const first = {
  ...fixture,
  host: series[0].host,
  wallMs: series[0].wallMs - 1000,
  monoNs: series[0].monoNs - 1e9,
  taskSample: { ...fixture.taskSample, monoNs: series[0].monoNs - 1e9 + 5e6 },
  userNames: { 0: 'root' },
  sampler: { backend: 'ts' as const, backendReason: 'disabled by --no-native', sampleMs: 3.25, sampleCpuMs: 2.5 },
};
const snaps = [first, ...series];
const recorder = Recorder.open(path, first.host, { recordCmdlines: true, chunkLimits: { maxSamples: 4, targetBodyBytes: 1 << 22 } });
for (const s of snaps) await recorder.append(s);
await recorder.close();
writeFileSync(`${dir}v${FORMAT_VERSION}.json`, JSON.stringify({ header: recorder.header, samples: snaps.map(snapshotToJson) }) + '\n');
process.stdout.write(`wrote ${path} (${snaps.length} samples)\n`);
