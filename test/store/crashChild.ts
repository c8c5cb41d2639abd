// Child process for the crash test: appends snapshots of smallSeries(∞) to the recording given as
// argv[2] and prints the number of appends that have returned, one line each, until it is killed.
import { Recorder } from '../../src/store/recorder.js';
import { syntheticSeries } from './synthetic.js';

const next = syntheticSeries(40, 4, 1);
const first = next();
const recorder = Recorder.open(process.argv[2], first.host, { recordCmdlines: true, chunkLimits: { maxSamples: 4, targetBodyBytes: 1 << 22 } });
for (let n = 1; ; n++) {
  await recorder.append(n === 1 ? first : next());
  process.stdout.write(`${n}\n`);
}
