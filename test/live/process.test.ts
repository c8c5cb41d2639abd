// Live: the process table. Every process whytop lists must match what ps says at the same moment:
// thread count, uid and user, comm, command line, virtual size and resident memory (both readers).
// And the cgroup column must follow a process moved to another cgroup.
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProcessFrame } from '../../src/model/frame.js';
import { childrenOf, missingPrereqs, processOf, readerArgs, report, sampleAligned, start, stopAll, titled, waitFor, whytop } from './workload.js';

afterAll(async () => {
  await stopAll();
  if (fs.existsSync(MOVE_CGROUP)) fs.rmdirSync(MOVE_CGROUP);
});

const MOVE_NAME = `whytop-test-move-${process.pid}`; // per run: concurrent runs stay apart
const MOVE_CGROUP = `/sys/fs/cgroup/memory/${MOVE_NAME}`;
const skipPs = missingPrereqs({ tools: ['ps', 'stress-ng'] });
const skipMove = missingPrereqs({ root: true, tools: ['sleep'], paths: ['/sys/fs/cgroup/memory/cgroup.procs'] });

interface PsRow {
  pid: number;
  nlwp: number;
  uid: number;
  user: string;
  vszKb: number;
  rssKb: number;
  comm: string;
  args: string;
}

/** `ps -eo pid=,nlwp=,uid=,user:64=,vsz=,rss=,comm:64=,args=` (comm without spaces is assumed; rows with spaces are skipped). */
function parsePs(text: string): Map<number, PsRow> {
  const out = new Map<number, PsRow>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    out.set(Number(m[1]), { pid: Number(m[1]), nlwp: Number(m[2]), uid: Number(m[3]), user: m[4], vszKb: Number(m[5]), rssKb: Number(m[6]), comm: m[7], args: m[8] });
  }
  return out;
}

describe('live: process table', () => {
  it(
    titled('every process matches ps at the same moment: threads, uid/user, comm, cmdline, vsz, rss (every task reader)', skipPs),
    { skip: skipPs !== null, timeout: 90_000 },
    async () => {
      // A few multi-threaded and short-lived processes, so thread counts and process churn show.
      const stress = start('stress-ng', ['--pthread', '1', '--pthread-max', '8', '--fork', '1', '-t', '80']);
      await waitFor('stress-ng workers', () => stress.running() && childrenOf(stress.pid).length >= 2, 5000);
      const { atStart, tools } = await sampleAligned({
        intervals: 1,
        whytopArgs: readerArgs(),
        tools: [{ cmd: 'ps', args: ['-eo', 'pid=,nlwp=,uid=,user:64=,vsz=,rss=,comm:64=,args='] }],
      });
      const ps = parsePs(tools[0]);
      expect(ps.size, tools[0]).toBeGreaterThan(20);
      const observed: Record<string, unknown> = { psProcesses: ps.size };
      for (const frame of atStart) {
        const backend = frame.sampler.backend;
        const mismatches: string[] = [];
        let compared = 0;
        for (const p of frame.processes) {
          const r = ps.get(p.pid);
          if (!r || r.comm !== p.comm.replace(/\s/g, '')) continue; // gone, or not the same process (or a comm with spaces)
          if (r.args.endsWith('<defunct>')) continue; // exited in between: ps no longer sees its command line
          compared++;
          const bad = (what: string, w: unknown, v: unknown): void => {
            mismatches.push(`pid ${p.pid} (${p.comm}) ${what}: whytop ${JSON.stringify(w)} vs ps ${JSON.stringify(v)}`);
          };
          if (p.uid !== r.uid) bad('uid', p.uid, r.uid);
          if (p.user !== r.user) bad('user', p.user, r.user);
          // ps shows a kernel thread's (empty) command line as [comm]; whytop as ''.
          const args = p.cmdline === '' ? `[${p.comm}]` : p.cmdline;
          if (args === null || asPsPrints(args) !== r.args) bad('cmdline', p.cmdline, r.args);
          // Values that move (threads come and go, memory is touched) may differ a little between
          // whytop's pass and ps's a few ms later; static ones must be equal.
          if (Math.abs(p.threads - r.nlwp) > 0 && !moving(p)) bad('threads', p.threads, r.nlwp);
          if (p.vsz_bytes !== null && Math.abs(p.vsz_bytes / 1024 - r.vszKb) > 0 && !moving(p)) bad('vsz kB', p.vsz_bytes / 1024, r.vszKb);
          if (p.rss_bytes !== null && !moving(p) && Math.abs(p.rss_bytes / 1024 - r.rssKb) > Math.max(1024, 0.05 * r.rssKb)) bad('rss kB', p.rss_bytes / 1024, r.rssKb);
          if (p.rss_bytes === null && r.rssKb > 0) bad('rss kB', null, r.rssKb);
        }
        observed[backend] = { compared, mismatches };
        // Every mismatch is listed; a handful of processes that changed between the two reads
        // (a stress-ng fork child exec'ing or exiting) are tolerated, no more.
        expect(compared, `${backend}: processes compared`).toBeGreaterThan(0.8 * ps.size);
        expect(mismatches.length, `${backend}:\n${mismatches.join('\n')}`).toBeLessThanOrEqual(2);
      }
      report('process', observed);
      await stress.stop();
    },
  );

  // The cgroup column after a move: whytop sees a sleeping process, then it is moved to another
  // memory cgroup. The first test checks the set-up (and fails on its own problems); the second
  // holds what whytop should show.
  let moved: { kernelSays: string | undefined; shown: Array<string | null | undefined> } | null = null;
  it(
    titled('a process moved to another memory cgroup: the kernel shows the move, whytop listed it before and after', skipMove),
    { skip: skipMove !== null, timeout: 90_000 },
    async () => {
      if (!fs.existsSync(MOVE_CGROUP)) fs.mkdirSync(MOVE_CGROUP);
      const sleeper = start('sleep', ['30']);
      const frames = await whytop(['--interval', '500', '--count', '7'], (_f, index) => {
        if (index === 0) fs.writeFileSync(`${MOVE_CGROUP}/cgroup.procs`, String(sleeper.pid)); // moved after whytop saw it
      }).done;
      const kernelSays = /:memory:(\S+)/.exec(fs.readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8'))?.[1];
      const shown = frames.map((f) => processOf(f, sleeper.pid)?.cgroup);
      moved = { kernelSays, shown };
      report('cgroup-move', moved);
      await sleeper.stop();
      expect(kernelSays).toBe(`/${MOVE_NAME}`);
      expect(shown.every((c) => typeof c === 'string'), 'whytop listed the process with a cgroup in every frame').toBe(true);
      expect(shown[0]).not.toBe(`/${MOVE_NAME}`); // the first frame is from before the move
    },
  );

  // cgroups are refreshed on a rolling schedule (every 5 passes): systemd, container runtimes and
  // kubelet move processes all the time.
  it(
    titled('whytop shows the moved process in its new cgroup within a few samples', skipMove),
    { skip: skipMove !== null },
    () => {
      expect(moved?.shown[moved.shown.length - 1]).toBe(`/${MOVE_NAME}`);
    },
  );
});

/** A command line as ps prints it in the C locale: every byte outside printable ASCII as '?'. */
function asPsPrints(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '?')).join('');
}

/**
 * A process that ran in the last second may have started or ended a thread or mapped memory in
 * the few ms between whytop's read and ps's; an idle one cannot have.
 */
function moving(p: ProcessFrame): boolean {
  return p.cpu_pct === null || p.cpu_pct > 0;
}
