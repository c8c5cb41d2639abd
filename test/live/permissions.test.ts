// Live: whytop run by an unprivileged user on the real /proc. Files the kernel does not let that
// user read (another user's /proc/PID/io; wchan, which reads "0" without permission) must come out
// as null — "not known" — never as 0, while the user's own processes keep their numbers. Both /proc
// readers (the BPF reader needs root, so it is not in play here).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/model/frame.js';
import { BIN, IS_ROOT, report, titled, which } from './workload.js';

/** uid and gid of the unprivileged user the test runs whytop as. */
const NOBODY = 65534;

const skip = !IS_ROOT ? 'needs root to switch to an unprivileged user' : which('setpriv') === null ? 'needs setpriv (util-linux)' : null;

/** setpriv's arguments that make the unprivileged user. */
const AS_NOBODY = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
const NO_CAPS = ['--inh-caps=-all'];

/**
 * The capabilities the unprivileged user needs to load whytop itself: none, unless the checkout
 * sits where that user cannot read (a clone in a private temp directory); then CAP_DAC_READ_SEARCH,
 * which opens files past their modes but not /proc's io and wchan of another user (the kernel's
 * ptrace check guards those, and it does not yield to this capability).
 */
function loadCaps(): string[] {
  if (skip !== null) return NO_CAPS;
  const r = spawnSync('setpriv', [...AS_NOBODY, ...NO_CAPS, 'test', '-r', BIN], { encoding: 'utf8' });
  return r.status === 0 ? NO_CAPS : ['--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search'];
}

/** Runs `whytop dump` as the unprivileged user and returns its frames. */
function dumpAsNobody(readerFlag: string): Frame[] {
  const caps = loadCaps();
  if (caps !== NO_CAPS) report('permissions', { note: `${BIN} is not readable by uid ${NOBODY}: it runs with CAP_DAC_READ_SEARCH to load whytop` });
  const r = spawnSync('setpriv', [...AS_NOBODY, ...caps, process.execPath, BIN, 'dump', '--count', '2', '--interval', '300', '--detail', readerFlag], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`whytop as uid ${NOBODY} exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((line) => JSON.parse(line) as Frame);
}

describe.sequential('live: an unprivileged user', () => {
  for (const readerFlag of ['--no-bpf', '--no-native']) {
    it(titled(`whytop ${readerFlag} as uid ${NOBODY}: another user's io and wchan are null, its own are numbers`, skip), { skip: skip !== null, timeout: 60_000 }, () => {
      const frame = dumpAsNobody(readerFlag).at(-1)!;
      const own = frame.processes.filter((p) => p.uid === NOBODY);
      const roots = frame.processes.filter((p) => p.uid === 0 && p.threads > 0);
      const rootThreads = frame.threads.filter((t) => t.uid === 0 && t.pid !== 2 && t.comm !== 'kthreadd');
      report(`permissions ${readerFlag}`, {
        backend: frame.sampler.backend,
        own: own.map((p) => ({ pid: p.pid, read: p.read_bytes_per_s, write: p.write_bytes_per_s })),
        rootProcesses: roots.length,
        rootWithIo: roots.filter((p) => p.read_bytes_per_s !== null).length,
        rootThreadsWithWchan: rootThreads.filter((t) => t.wchan !== null).length,
      });
      expect(frame.sampler.backend).not.toBe('bpf');
      expect(own.length, 'whytop itself runs as the unprivileged user').toBeGreaterThan(0);
      expect(own.every((p) => p.read_bytes_per_s !== null && p.write_bytes_per_s !== null), 'its own io is readable').toBe(true);
      expect(roots.length).toBeGreaterThan(5);
      expect(roots.every((p) => p.read_bytes_per_s === null && p.write_bytes_per_s === null), "root's processes: io not permitted, so null").toBe(true);
      expect(frame.threads.filter((t) => t.uid === 0).every((t) => t.syscr_per_s === null && t.rchar_per_s === null), "root's threads: io null").toBe(true);
      expect(rootThreads.every((t) => t.wchan === null), "root's threads: wchan reads 0 without permission, shown as null").toBe(true);
      // Numbers every user may read are still there.
      expect(roots.every((p) => p.user_pct !== null && p.cpu_time_s !== null)).toBe(true);
    });
  }
});
