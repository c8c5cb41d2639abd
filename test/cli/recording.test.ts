// record, info, dump FILE and replay as a user meets them, through the real bin.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { derive } from '../../src/model/derive.js';
import { RecordingReader } from '../../src/store/reader.js';
import { Recorder } from '../../src/store/recorder.js';
import { dirtyChainSnapshots, liveHints, printed } from '../hints/scripted.js';
import { BIN, HAVE_TMUX, TmuxPane } from '../ui/tmux.js';

const FIXTURE = path.resolve(__dirname, '../fixtures/proc/threads');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whytop-rec-'));
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
