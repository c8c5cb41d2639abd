// record, info, dump FILE and replay as a user meets them, through the real bin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { derive } from '../../src/model/derive.js';
import { RecordingReader } from '../../src/store/reader.js';
import { Recorder } from '../../src/store/recorder.js';
import { dirtyChainSnapshots, liveHints, printed } from '../hints/scripted.js';
import { smallSeries } from '../store/helpers.js';
import { BIN, HAVE_TMUX, TmuxPane } from '../ui/tmux.js';

const FIXTURE = path.resolve(__dirname, '../fixtures/proc/threads');
const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'whytop-rec-')));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  // A busy machine (10000 threads) makes dump output large: allow it.
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, maxBuffer: 512 * 1024 * 1024 });
}

describe('whytop record / info / dump FILE', () => {
  const file = path.join(dir, 'live.whytop');

  it('records N samples headlessly, mode 0600, with one summary line on stderr', () => {
    const r = run(['record', file, '--interval', '200', '--count', '6']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(new RegExp(`^whytop: recorded 6 samples, \\d+ bytes, to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('appends to a recording of the same host and refuses files that are not recordings', () => {
    expect(run(['record', file, '--interval', '200', '--count', '2']).status).toBe(0);
    const reader = RecordingReader.open(file);
    expect(reader.count).toBe(8);
    reader.close();
    const other = path.join(dir, 'notes.txt');
    fs.writeFileSync(other, 'my precious notes\n');
    const r = run(['record', other, '--count', '1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/whytop: .*refusing|not a whytop recording/);
    expect(fs.readFileSync(other, 'utf8')).toBe('my precious notes\n');
  });

  it('info prints the header, span, samples, size and damage', () => {
    const r = run(['info', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/format\s+v1/);
    expect(r.stdout).toMatch(/samples\s+8 in \d+ chunks/);
    expect(r.stdout).toMatch(/damage\s+none/);
    expect(r.stdout).toMatch(new RegExp(`host\\s+${os.hostname()}`));
  });

  it('dump FILE gives the frames live derivation gives, hints included', () => {
    const r = run(['dump', file]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(7);
    const reader = RecordingReader.open(file);
    const expected = derive(reader.sample(0)!, reader.sample(1)!);
    reader.close();
    expect(lines[0].time).toBe(expected.time);
    expect(lines[0].threads.map((t: { tid: number }) => t.tid)).toEqual(expected.threads.map((t) => t.tid));
    expect(lines[0].system.ctxsw_per_s).toBeCloseTo(expected.system.ctxsw_per_s ?? NaN, 2);
    expect(Array.isArray(lines[0].hints)).toBe(true);
    const csv = run(['dump', file, '--format', 'csv', '--section', 'cpus', '--from', '+0.3s', '--to', 'end']);
    expect(csv.status).toBe(0);
    expect(csv.stdout.split('\n')[0]).toMatch(/^time,cpu,user_pct/);
  });

  it('dump FILE ends quietly in a closed pipe', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" dump "${file}" | head -c 100 > /dev/null`], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('reports a truncated recording, replays what is intact, and never hangs', () => {
    const cut = path.join(dir, 'cut.whytop');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const info = run(['info', cut]);
    expect(info.status).toBe(0);
    expect(info.stderr + info.stdout).toMatch(/damage|truncated|cut/i);
    const dump = run(['dump', cut]);
    expect(dump.status).toBe(0);
    expect(dump.stdout.trim().split('\n').length).toBeGreaterThan(0);
  });

  it('says clearly what is wrong with a missing file or a bad time', () => {
    const missing = run(['info', path.join(dir, 'nope.whytop')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.whytop/);
    const bad = run(['dump', file, '--from', 'yesterday-ish']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/cannot read time 'yesterday-ish'/);
    expect(run(['replay']).stderr).toMatch(/replay needs a FILE/);
  });

  it('records from a fixture proc root and replays it with the same names', () => {
    const fx = path.join(dir, 'fixture.whytop');
    expect(run(['record', fx, '--proc-root', FIXTURE, '--interval', '100', '--count', '3']).status).toBe(0);
    const frames = run(['dump', fx]).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(frames).toHaveLength(2);
    expect(frames[0].threads.find((t: { tid: number }) => t.tid === 102).comm).toBe('evil\nname\x1b[31m');
    expect(frames[0].processes.find((p: { pid: number }) => p.pid === 100).cmdline).toBeNull(); // not recorded without --cmdline
  });
});

describe('one writer per recording', () => {
  it('refuses a second record on the same file with a clear message; the first completes intact', async () => {
    const file = path.join(dir, 'c.whytop');
    const first = spawn(process.execPath, [BIN, 'record', file, '--interval', '100', '--count', '15'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => first.on('exit', resolve));
    for (let waited = 0; !fs.existsSync(`${file}.lock`) && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const second = run(['record', file, '--interval', '100', '--count', '5']);
    expect(second.status).toBe(1);
    expect(second.stderr).toBe(`whytop: ${file} is being written by process ${first.pid}: refusing a second writer (lock ${file}.lock)\n`);
    expect(await exited).toBe(0);
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
    const reader = RecordingReader.open(file, { verify: true });
    expect(reader.count).toBe(15);
    expect(reader.damage).toEqual([]);
    reader.close();
  });
});

describe('dump FILE --from / --to', () => {
  const file = path.join(dir, 'span.whytop');
  /** Sample i is at T0 + i s + 500 ms: a clock time in whole seconds falls between two samples. */
  const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
  beforeAll(async () => {
    const snaps = smallSeries(40).map((s, i) => ({ ...s, wallMs: T0 + i * 1000 + 500 }));
    const recorder = Recorder.open(file, snaps[0].host);
    for (const s of snaps) await recorder.append(s);
    await recorder.close();
  });
  const clock = (ms: number): string => {
    const d = new Date(ms);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  };
  /** Sample numbers of the frames dump prints (a frame's time is its sample's). */
  const printedSamples = (...args: string[]): number[] => {
    const r = run(['dump', file, ...args]);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim().split('\n').filter(Boolean).map((l) => (Date.parse(JSON.parse(l).time) - T0 - 500) / 1000);
  };
  const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, k) => a + k);

  it('--from a clock time prints no frame from before it', () => {
    expect(printedSamples('--from', clock(T0 + 10_000))).toEqual(range(10, 39));
    expect(printedSamples('--from', new Date(T0 + 10_500).toISOString())).toEqual(range(10, 39));
    expect(printedSamples('--from', 'start')).toEqual(range(1, 39));
  });

  it('--to +N counts from --from (or the start), -N from the end', () => {
    expect(printedSamples('--from', clock(T0 + 10_000), '--to', '+5s')).toEqual(range(10, 14));
    expect(printedSamples('--from', '+10s', '--to', '+5s')).toEqual(range(10, 15));
    expect(printedSamples('--to', '+5s')).toEqual(range(1, 5));
    expect(printedSamples('--to', '-30s')).toEqual(range(1, 9));
    expect(printedSamples('--from', '-5s')).toEqual(range(34, 39));
    expect(printedSamples('--from', '+10s', '--to', 'end')).toEqual(range(10, 39));
  });
});

describe('dump FILE --from: the hints of a run from the first sample', () => {
  it('shows a hint that started before --from and is kept by its hold level, as the live run did', async () => {
    const file = path.join(dir, 'chain.whytop');
    const snaps = dirtyChainSnapshots(170);
    const recorder = Recorder.open(file, snaps[0].host);
    for (const s of snaps) await recorder.append(s);
    await recorder.close();
    const reader = RecordingReader.open(file);
    const stored = Array.from({ length: reader.count }, (_, i) => reader.sample(i));
    reader.close();
    const live = new Map(liveHints(stored).flatMap((m) => (m ? [[m.frame.time, printed(m.hints)] as const] : [])));
    for (const from of ['+120s', '+44s', 'start']) {
      const r = run(['dump', file, '--from', from, '--count', '8']);
      expect(r.status, r.stderr).toBe(0);
      const records = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { time: string; hints: unknown[] });
      expect(records).toHaveLength(8);
      for (const record of records) expect(record.hints, `hints at ${record.time} (--from ${from})`).toEqual(live.get(record.time));
    }
    const mid = run(['dump', file, '--from', '+120s', '--count', '1']);
    expect(JSON.parse(mid.stdout).hints.map((h: { id: string }) => h.id)).toContain('dirty-data');
  });
});

describe.skipIf(!HAVE_TMUX)('whytop replay in a terminal', () => {
  it('plays, pauses, steps, changes speed, goes to a time, and shows REPLAY in the status bar', async () => {
    const file = path.join(dir, 'replay.whytop');
    expect(run(['record', file, '--interval', '200', '--count', '12']).status).toBe(0);
    const pane = new TmuxPane();
    try {
      pane.start(`'${process.execPath}' '${BIN}' replay '${file}'`);
      await pane.waitFor((l) => /REPLAY \d\d:\d\d:\d\d \d+\/11 x1/.test(l.join('\n')), 'replay status');
      pane.keys('space');
      await pane.waitFor((l) => /REPLAY .* x1 paused/.test(l.join('\n')), 'paused');
      pane.keys('g');
      pane.type('start');
      pane.keys('Enter');
      await pane.waitFor((l) => / 1\/11 /.test(l.join('\n')), 'at the start');
      pane.keys('t', 't', 'Right');
      await pane.waitFor((l) => / 4\/11 /.test(l.join('\n')), 'stepped forward');
      pane.keys('T', 'Left');
      await pane.waitFor((l) => / 2\/11 /.test(l.join('\n')), 'stepped back');
      pane.keys(']', ']', '[');
      await pane.waitFor((l) => / 2\/11 x2 /.test(l.join('\n')), 'speed x2');
      pane.keys('g');
      pane.type('end');
      pane.keys('Enter');
      await pane.waitFor((l) => / 11\/11 /.test(l.join('\n')), 'at the end');
      pane.keys('H', '2', '1', 'Enter');
      await pane.waitFor((l) => l.some((x) => /^Thread \d+ /.test(x)), 'detail works in replay');
      pane.keys('Escape');
      await new Promise((r) => setTimeout(r, 300)); // Esc then k at once reads as Alt-k
      pane.keys('k');
      await pane.waitFor((l) => /signals are for live processes/.test(l.join('\n')), 'no signals in replay');
      pane.keys('q');
      await pane.waitFor((l) => l.some((x) => x.includes('WHYTOP-EXITED 0')), 'exit');
    } finally {
      pane.stop();
    }
  });

  it('shows the damage found while opening on the status line, not behind the full screen', async () => {
    const file = path.join(dir, 'damaged-replay.whytop');
    expect(run(['record', file, '--proc-root', FIXTURE, '--interval', '100', '--count', '12']).status).toBe(0);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 150));
    const pane = new TmuxPane();
    try {
      pane.start(`'${process.execPath}' '${BIN}' replay '${file}'`);
      await pane.waitFor((l) => /REPLAY .*damaged recording: file cut off: \d+ of 12 samples .* lost \(\d+ bytes at offset \d+\)/.test(l.join('\n')), 'damage on the status line');
      pane.keys('q');
      const end = await pane.waitFor((l) => l.some((x) => x.includes('WHYTOP-EXITED 0')), 'exit');
      expect(end.join('\n')).not.toMatch(/whytop: .*damaged|bytes at offset/);
    } finally {
      pane.stop();
    }
  });

  it('starts the thread sparklines afresh after a jump, and adds to them stepping forward', async () => {
    const file = path.join(dir, 'spark.whytop');
    expect(run(['record', file, '--proc-root', FIXTURE, '--interval', '100', '--count', '12']).status).toBe(0);
    /** Values in the detail's CPU % sparkline. */
    const sparkValues = (lines: string[]): number => /[▁▂▃▄▅▆▇█]+\s*$/.exec(lines.find((l) => l.startsWith('CPU %')) ?? '')?.[0].trim().length ?? 0;
    const pane = new TmuxPane();
    try {
      pane.start(`'${process.execPath}' '${BIN}' replay '${file}'`);
      await pane.waitFor((l) => /REPLAY /.test(l.join('\n')), 'replay');
      pane.keys('space');
      await pane.waitFor((l) => /REPLAY .* paused/.test(l.join('\n')), 'paused');
      pane.keys('g');
      pane.type('start');
      pane.keys('Enter', 'Enter', 't', 't', 't', 't');
      await pane.waitFor((l) => / 5\/11 /.test(l.join('\n')) && sparkValues(l) === 5, 'five frames in a row: five values');
      pane.keys('g');
      pane.type('end');
      pane.keys('Enter', 'Enter');
      await pane.waitFor((l) => / 11\/11 /.test(l.join('\n')) && sparkValues(l) === 1, 'after the jump: one value');
      pane.keys('T', 'T');
      await pane.waitFor((l) => / 9\/11 /.test(l.join('\n')) && sparkValues(l) === 1, 'stepping back is a jump too');
      pane.keys('t');
      await pane.waitFor((l) => / 10\/11 /.test(l.join('\n')) && sparkValues(l) === 2, 'one step on: two values');
      pane.keys('q');
      await pane.waitFor((l) => !l.some((x) => x.startsWith('CPU %')), 'detail closed');
      pane.keys('q');
      await pane.waitFor((l) => l.some((x) => x.includes('WHYTOP-EXITED 0')), 'exit');
    } finally {
      pane.stop();
    }
  });

  it('keeps recording while live is paused (R), and says so', async () => {
    const cwd = fs.mkdtempSync(path.join(dir, 'rec-'));
    const pane = new TmuxPane();
    try {
      pane.start(`sh -c "cd '${cwd}' && exec '${process.execPath}' '${BIN}' --interval 200"`);
      await pane.waitFor((l) => /LIVE/.test(l.join('\n')) && /CPU%/.test(l.join('\n')), 'live');
      pane.keys('R');
      await pane.waitFor((l) => /recording to whytop-.*\.whytop \(R stops\)/.test(l.join('\n')), 'recording');
      await new Promise((r) => setTimeout(r, 500));
      pane.keys('space');
      const lines = await pane.waitFor((l) => /paused: the recording goes on \(R stops it\)/.test(l.join('\n')) && /PAUSED .* REC /.test(l.join('\n')), 'paused, recording on');
      const frozen = /PAUSED (\d\d:\d\d:\d\d) (\d+)\//.exec(lines.join('\n'))!;
      const [name] = fs.readdirSync(cwd).filter((f) => f.endsWith('.whytop'));
      const count = (): number => {
        const reader = RecordingReader.open(path.join(cwd, name));
        const n = reader.count;
        reader.close();
        return n;
      };
      const before = count();
      await new Promise((r) => setTimeout(r, 1500));
      expect(count()).toBeGreaterThanOrEqual(before + 4);
      // The screen stays where it was paused.
      expect(pane.screen().join('\n')).toContain(`PAUSED ${frozen[1]} ${frozen[2]}/`);
      pane.keys('R');
      await pane.waitFor((l) => /recording saved: whytop-.*\.whytop \(\d+ samples\)/.test(l.join('\n')), 'saved');
      pane.keys('q');
      await pane.waitFor((l) => l.some((x) => x.includes('WHYTOP-EXITED 0')), 'exit');
      expect(fs.readdirSync(cwd).filter((f) => f.endsWith('.lock'))).toEqual([]);
    } finally {
      pane.stop();
    }
  });

  it('pauses live, steps back through the kept history, and returns to live', async () => {
    const pane = new TmuxPane();
    try {
      pane.start(`'${process.execPath}' '${BIN}' --interval 250`);
      await pane.waitFor((l) => /LIVE/.test(l.join('\n')) && /CPU%/.test(l.join('\n')), 'live');
      await new Promise((r) => setTimeout(r, 1500));
      pane.keys('t');
      await pane.waitFor((l) => /pause first/.test(l.join('\n')), 'stepping needs a pause');
      pane.keys('space');
      const lines = await pane.waitFor((l) => /PAUSED \d\d:\d\d:\d\d \d+\/\d+/.test(l.join('\n')), 'paused');
      const [, at] = /PAUSED \d\d:\d\d:\d\d (\d+)\/(\d+)/.exec(lines.join('\n'))!;
      pane.keys('T', 'T');
      await pane.waitFor((l) => new RegExp(`PAUSED \\d\\d:\\d\\d:\\d\\d ${Number(at) - 2}/`).test(l.join('\n')), 'stepped back two samples');
      pane.keys('space');
      await pane.waitFor((l) => /LIVE history/.test(l.join('\n')), 'live again');
      pane.keys('q');
      await pane.waitFor((l) => l.some((x) => x.includes('WHYTOP-EXITED 0')), 'exit');
    } finally {
      pane.stop();
    }
  });
});
