// One contract for both task readers: the TypeScript twin and the native addon must read the same
// fixture tree into exactly these values, and agree with each other on the live /proc.
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNativeTaskReader } from '../../src/native/index.js';
import type { TaskSample } from '../../src/model/snapshot.js';
import { TsTaskReader } from '../../src/sources/tsTaskReader.js';
import type { TaskReader } from '../../src/sources/taskReader.js';

const FIXTURE = path.resolve(__dirname, '../fixtures/proc/threads');

type Factory = (root: string, fdBudget?: number) => TaskReader;
const factories: Array<[string, Factory | null, string]> = [['ts', (root, fdBudget) => new TsTaskReader(root, { fdBudget }), '']];
{
  const probe = loadNativeTaskReader(FIXTURE);
  probe.reader?.close();
  factories.push([
    'native',
    probe.reader
      ? (root, fdBudget) => {
          const loaded = loadNativeTaskReader(root, { fdBudget });
          if (!loaded.reader) throw new Error(loaded.reason);
          return loaded.reader;
        }
      : null,
    probe.reason ?? '',
  ]);
}

/** Row index of a tid in a sample. */
function row(s: TaskSample, tid: number): number {
  const i = Array.from(s.tasks.tid).indexOf(tid);
  expect(i, `tid ${tid} present`).toBeGreaterThanOrEqual(0);
  return i;
}

function procRow(s: TaskSample, pid: number): number {
  const i = Array.from(s.procs.pid).indexOf(pid);
  expect(i, `pid ${pid} present`).toBeGreaterThanOrEqual(0);
  return i;
}

for (const [name, make, reason] of factories) {
  describe(`task reader contract: ${name}`, () => {
    if (!make) {
      it.skipIf(!process.env.CI)(`native reader unavailable (${reason})`, () => {
        throw new Error(`the native reader must load in CI: ${reason}`);
      });
      return;
    }
    const readers: TaskReader[] = [];
    const open = (root = FIXTURE, fdBudget?: number): TaskReader => {
      const r = make(root, fdBudget);
      readers.push(r);
      return r;
    };
    afterEach(() => {
      for (const r of readers.splice(0)) r.close();
    });

    it('names its backend', () => {
      expect(open().backend).toBe(name);
    });

    it('lists tasks by pid then tid, dropping vanished and garbled ones', () => {
      const s = open().read('none');
      expect(Array.from(s.tasks.tid)).toEqual([1, 100, 101, 102, 200, 300, 400, 600]);
      expect(Array.from(s.tasks.pid)).toEqual([1, 100, 100, 100, 200, 300, 400, 600]);
      expect(s.tasks.state).toBe('SSRDIZSS');
      expect(Array.from(s.procs.pid)).toEqual([1, 100, 200, 300, 400, 600]);
      expect(s.tasks.count).toBe(8);
      expect(s.procs.count).toBe(6);
      for (const col of Object.values(s.tasks)) if (col instanceof Float64Array) expect(col.length).toBe(8);
      expect(s.monoNs).toBeGreaterThan(0);
    });

    it('parses stat fields, comm up to the last parenthesis and raw name bytes', () => {
      const s = open().read('none');
      const t = s.tasks;
      const i = row(s, 1);
      expect([t.minflt[i], t.majflt[i], t.utimeTicks[i], t.stimeTicks[i], t.priority[i], t.nice[i]]).toEqual([500, 7, 120, 80, 20, 0]);
      expect([t.starttimeTicks[i], t.vsizeBytes[i], t.rssPages[i], t.processor[i]]).toEqual([5, 170000000, 3000, 1]);
      expect(t.comm[row(s, 100)]).toBe('a) b (c');
      expect(t.nice[row(s, 100)]).toBe(10);
      expect(t.comm[row(s, 102)]).toBe('evil\nname\x1b[31m');
      expect(t.comm[row(s, 200)]).toBe('kworker/0:1-events_unbound_long');
      expect(t.comm[row(s, 400)]).toBe('bad\ufffd\ufffdutf');
    });

    it('reads schedstat, and gives NaN (not 0) where it is missing', () => {
      const s = open().read('none');
      const i = row(s, 101);
      expect([s.tasks.runNs[i], s.tasks.waitNs[i], s.tasks.timeslices[i]]).toEqual([30000000000, 500000000, 9000]);
      expect(Number.isNaN(s.tasks.runNs[row(s, 300)])).toBe(true);
    });

    it('reads switch counters per thread, NaN where status is unreadable', () => {
      const s = open().read('none');
      expect([s.tasks.vcsw[row(s, 101)], s.tasks.ivcsw[row(s, 101)]]).toEqual([1, 999]);
      expect([s.tasks.vcsw[row(s, 102)], s.tasks.ivcsw[row(s, 102)]]).toEqual([77, 0]);
      expect(Number.isNaN(s.tasks.vcsw[row(s, 400)])).toBe(true);
    });

    it('reads process memory from the main thread status and io from PID/io', () => {
      const s = open().read('none');
      const p = s.procs;
      const i = procRow(s, 100);
      expect([p.uid[i], p.vmSizeKb[i], p.rssAnonKb[i], p.rssFileKb[i], p.rssShmemKb[i], p.vmSwapKb[i]]).toEqual([1000, 880000, 70000, 9000, 1000, 2048]);
      expect([p.rchar[i], p.wchar[i], p.syscr[i], p.syscw[i], p.readBytes[i], p.writeBytes[i]]).toEqual([5000, 6000, 50, 60, 7000, 8000]);
      expect(p.cancelledWriteBytes[procRow(s, 1)]).toBe(4096);
      expect(p.starttimeTicks[i]).toBe(400);
      const k = procRow(s, 200);
      expect(p.uid[k]).toBe(0);
      for (const col of [p.vmSizeKb, p.rssAnonKb, p.vmSwapKb, p.rchar, p.readBytes]) expect(Number.isNaN(col[k])).toBe(true);
      expect(p.cmdline.every((c) => c === null)).toBe(true);
    });

    it('reads per-thread io and wchan only for the threads asked for', () => {
      const none = open().read('none');
      expect(Array.from(none.tasks.rchar).every(Number.isNaN)).toBe(true);
      expect(none.tasks.wchan.every((w) => w === null)).toBe(true);
      const some = open().read(new Set([102]));
      const i = row(some, 102);
      expect(some.tasks.wchan[i]).toBe('io_schedule');
      expect([some.tasks.rchar[i], some.tasks.syscr[i], some.tasks.readBytes[i]]).toEqual([100, 1, 4096]);
      expect(some.tasks.wchan[row(some, 1)]).toBeNull();
      const all = open().read('all');
      expect(all.tasks.wchan[row(all, 1)]).toBe('do_epoll_wait');
      expect(all.tasks.wchan[row(all, 101)]).toBeNull(); // "0": running or not permitted
      expect(all.tasks.writeBytes[row(all, 1)]).toBe(8192);
    });

    it('keeps counters of threads that did not run, and re-reads those that did', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whytop-contract-'));
      fs.cpSync(FIXTURE, dir, { recursive: true });
      const reader = open(dir);
      reader.read('none');
      // Thread 101 did not run (schedstat unchanged): a changed status must not be read.
      fs.writeFileSync(`${dir}/100/task/101/status`, 'voluntary_ctxt_switches:\t5\nnonvoluntary_ctxt_switches:\t6\n');
      // Thread 102 ran: its new counters must be read.
      fs.writeFileSync(`${dir}/100/task/102/schedstat`, '1001 200 4\n');
      fs.writeFileSync(`${dir}/100/task/102/status`, 'voluntary_ctxt_switches:\t80\nnonvoluntary_ctxt_switches:\t1\n');
      let s = reader.read('none');
      expect(s.tasks.vcsw[row(s, 101)]).toBe(1);
      expect([s.tasks.vcsw[row(s, 102)], s.tasks.ivcsw[row(s, 102)]]).toEqual([80, 1]);
      // The main thread's status is read every pass (it carries the process's memory).
      fs.writeFileSync(`${dir}/1/task/1/status`, fs.readFileSync(`${dir}/1/task/1/status`, 'utf8').replace('RssAnon:\t5000', 'RssAnon:\t6000'));
      s = reader.read('none');
      expect(s.procs.rssAnonKb[procRow(s, 1)]).toBe(6000);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('drops a task that vanishes between passes and treats a reused tid as a new task', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whytop-contract-'));
      fs.cpSync(FIXTURE, dir, { recursive: true });
      const reader = open(dir);
      reader.read('none');
      fs.rmSync(`${dir}/100/task/102`, { recursive: true });
      // tid 101 reused by a new thread (new starttime) that has not "run" by schedstat.
      const stat101 = fs.readFileSync(`${dir}/100/task/101/stat`, 'latin1').replace(' 401 ', ' 999 ');
      fs.writeFileSync(`${dir}/100/task/101/stat`, stat101, 'latin1');
      fs.writeFileSync(`${dir}/100/task/101/status`, 'voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t2\n');
      const s = reader.read('none');
      expect(Array.from(s.tasks.tid)).toEqual([1, 100, 101, 200, 300, 400, 600]);
      const i = row(s, 101);
      expect(s.tasks.starttimeTicks[i]).toBe(999);
      expect([s.tasks.vcsw[i], s.tasks.ivcsw[i]]).toEqual([0, 2]);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('gives identical results with no file kept open (fd budget 0)', () => {
      const kept = open().read('all');
      const unkept = open(FIXTURE, 0).read('all');
      expect(comparable(unkept)).toEqual(comparable(kept));
    });

    it('closes every file it opened', () => {
      const before = fs.readdirSync('/proc/self/fd').length;
      const reader = make(FIXTURE);
      reader.read('none');
      reader.read('all');
      reader.close();
      expect(fs.readdirSync('/proc/self/fd').length).toBe(before);
    });

    it('refuses a proc root that is not a directory with a clear error', () => {
      expect(() => make('/nonexistent/proc')).toThrow(/cannot read proc root \/nonexistent\/proc/);
    });
  });
}

/** A sample as plain data (typed arrays → arrays, NaN kept distinguishable), without the timestamp. */
function comparable(s: TaskSample): unknown {
  const plain = (table: object): Record<string, unknown> =>
    Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v instanceof Float64Array ? Array.from(v, (x) => (Number.isNaN(x) ? 'NaN' : x)) : v]));
  return { tasks: plain(s.tasks), procs: plain(s.procs) };
}

describe('native and TypeScript readers agree', () => {
  const native = loadNativeTaskReader(FIXTURE);
  native.reader?.close();
  it.skipIf(!native.reader)('on the fixture tree, field by field', () => {
    const ts = new TsTaskReader(FIXTURE);
    const nat = loadNativeTaskReader(FIXTURE).reader!;
    for (const detail of ['none', 'all', new Set([1, 102])] as const) {
      expect(comparable(nat.read(detail))).toEqual(comparable(ts.read(detail)));
    }
    ts.close();
    nat.close();
  });

  it.skipIf(!native.reader)('on the live /proc: same tasks, names, identities and stable fields', () => {
    const ts = new TsTaskReader('/proc');
    const nat = loadNativeTaskReader('/proc').reader!;
    // Read back to back; tasks that come or go in between are excluded from the comparison.
    const a = ts.read('all');
    const b = nat.read('all');
    const key = (s: TaskSample, i: number): string => `${s.tasks.tid[i]}:${s.tasks.starttimeTicks[i]}`;
    const bIndex = new Map<string, number>();
    for (let i = 0; i < b.tasks.count; i++) bIndex.set(key(b, i), i);
    let compared = 0;
    for (let i = 0; i < a.tasks.count; i++) {
      const j = bIndex.get(key(a, i));
      if (j === undefined) continue;
      compared++;
      // A kworker's name carries the workqueue it is serving right now: it changes between reads.
      if (!a.tasks.comm[i].startsWith('kworker/')) expect(b.tasks.comm[j]).toBe(a.tasks.comm[i]);
      expect(b.tasks.pid[j]).toBe(a.tasks.pid[i]);
      expect(b.tasks.nice[j]).toBe(a.tasks.nice[i]);
      expect(b.tasks.vsizeBytes[j] >= 0).toBe(a.tasks.vsizeBytes[i] >= 0);
      // Counters only grow: the native read came second.
      for (const col of ['utimeTicks', 'stimeTicks', 'minflt', 'runNs', 'vcsw'] as const) {
        if (!Number.isNaN(a.tasks[col][i])) expect(b.tasks[col][j], `${col} of ${key(a, i)}`).toBeGreaterThanOrEqual(a.tasks[col][i]);
      }
    }
    expect(compared).toBeGreaterThan(a.tasks.count * 0.9);
    ts.close();
    nat.close();
  });
});
