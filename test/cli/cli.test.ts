// The command line as a user meets it: the real bin, spawned.
import { describe, expect, it } from 'vitest';
import { spawnSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { METRICS } from '../../src/model/metrics.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/whytop.js');
const FIXTURE = path.join(ROOT, 'test/fixtures/proc/threads');

function run(args: string[], timeout = 20_000) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout });
}

describe('whytop command line', () => {
  it('prints usage for --help and dump --help', () => {
    for (const args of [['--help'], ['dump', '--help'], ['-h']]) {
      const r = run(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Usage:/);
      expect(r.stdout).toMatch(/--proc-root DIR/);
    }
  });

  it('rejects unknown flags and bad values with one line naming the flag, exit 2', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--bogus'], /unknown option '--bogus'/],
      [['dump', '--interval', 'fast'], /--interval must be an integer/],
      [['dump', '--interval', '5'], /--interval must be an integer ≥ 100/],
      [['dump', '--count'], /--count needs a value/],
      [['dump', '--format', 'xml'], /--format must be jsonl or csv/],
      [['dump', '--section', 'bogus'], /--section must be one of/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['serve', '--listen', '9947'], /--listen wants ADDR:PORT/],
      [['serve', '--top', '0'], /--top must be an integer ≥ 1/],
      [['record', 'x.whytop', '--duration', '10', '--count', '5'], /--duration and --count cannot be used together/],
      [['record', 'x.whytop', '--count', '5', '--duration', '10'], /--duration and --count cannot be used together/],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });

  it('reports an unreadable proc root clearly, exit 1', () => {
    const r = run(['dump', '--count', '1', '--proc-root', '/nonexistent']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot read proc root \/nonexistent/);
  });

  it('dumps N JSON frames from a fixture tree with the documented schema', () => {
    const r = run(['dump', '--count', '2', '--interval', '100', '--proc-root', FIXTURE, '--detail']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const frame = JSON.parse(lines[0]);
    for (const key of ['time', 'interval_s', 'sampler', 'cpus', 'cpu_total', 'system', 'threads_by_state', 'softirqs', 'memory', 'paging', 'pressure', 'threads', 'processes']) {
      expect(frame, key).toHaveProperty(key);
    }
    expect(['native', 'ts']).toContain(frame.sampler.backend);
    expect(frame.threads.map((t: { tid: number }) => t.tid)).toEqual([1, 100, 101, 102, 200, 300, 400, 600]);
    const evil = frame.threads.find((t: { tid: number }) => t.tid === 102);
    expect(evil.comm).toBe('evil\nname\x1b[31m'); // exact for JSON readers...
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/); // ...but no raw control bytes
    expect(evil.wchan).toBe('io_schedule');
    const proc = frame.processes.find((p: { pid: number }) => p.pid === 100);
    expect(proc).toMatchObject({ cmdline: '/usr/bin/prog --flag a b', cgroup: '/user.slice/prog', threads: 3, rss_anon_bytes: 70000 * 1024, uid: 1000 });
    expect(METRICS.length).toBeGreaterThan(50);
  });

  it('--align samples on whole multiples of the interval on the wall clock', () => {
    const r = run(['dump', '--count', '3', '--interval', '250', '--align', '--proc-root', FIXTURE]);
    expect(r.status, r.stderr).toBe(0);
    const offsets = r.stdout.trim().split('\n').map((line) => Date.parse(JSON.parse(line).time) % 250);
    expect(offsets).toHaveLength(3);
    // A timer fires a little late, never early; a crowded machine may add tens of ms.
    for (const ms of offsets) expect(ms, `sample ${ms} ms past a multiple of 250`).toBeLessThan(100);
  });

  it('--no-native forces the TypeScript reader and says so', () => {
    const r = run(['dump', '--count', '1', '--interval', '100', '--proc-root', FIXTURE, '--no-native']);
    const frame = JSON.parse(r.stdout);
    expect(frame.sampler).toMatchObject({ backend: 'ts', backend_reason: 'disabled by --no-native' });
  });

  it('prints CSV sections with one header and escaped names', () => {
    const r = run(['dump', '--count', '2', '--interval', '100', '--proc-root', FIXTURE, '--format', 'csv', '--section', 'threads']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0].startsWith('time,pid,tid,comm,state')).toBe(true);
    expect(lines.filter((l) => l.startsWith('time,'))).toHaveLength(1);
    expect(lines).toHaveLength(1 + 2 * 8);
    expect(r.stdout).toContain('evil\\x0aname\\x1b[31m');
    expect(r.stdout).toContain('"a) b (c"'.replace(/"/g, '')); // no comma: unquoted
    for (const section of ['processes', 'cpus', 'system', 'memory', 'softirqs']) {
      const s = run(['dump', '--count', '1', '--interval', '100', '--proc-root', FIXTURE, '--format', 'csv', '--section', section]);
      expect(s.status, section).toBe(0);
      expect(s.stdout.split('\n')[0], section).toMatch(/^time,/);
    }
  });

  it('ends quietly when the reader of its output goes away (| head)', async () => {
    const child = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" dump --interval 100 --proc-root "${FIXTURE}" | head -n 1`]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(err).toBe('');
  });

  it('stops on SIGINT without an error', async () => {
    const child = spawn(process.execPath, [BIN, 'dump', '--interval', '100', '--proc-root', FIXTURE]);
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(err).toBe('');
  });
});
