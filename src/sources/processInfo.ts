// Per-process strings that rarely change: the command line and the cgroup. Read when a process is
// first seen or execs (its comm changes), and refreshed on a rolling schedule: a process can be
// moved to another cgroup (systemd, container runtimes do it) or rewrite its command line.
import type { ProcTable, TaskTable } from '../model/snapshot.js';
import { readProcText } from './procFile.js';

/** Turns /proc/PID/cmdline (NUL-separated arguments) into one line; '' for kernel threads. */
export function parseCmdline(raw: string): string {
  return raw.replace(/\0+$/, '').replace(/\0/g, ' ');
}

/**
 * The cgroup a process is in, from /proc/PID/cgroup: the unified (cgroup v2, "0::") path, or on a
 * v1/hybrid host where that is just "/", the memory controller's path, then systemd's.
 */
export function parseCgroup(text: string): string | null {
  const paths = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    for (const controller of line.slice(first + 1, second).split(',')) paths.set(controller, line.slice(second + 1));
  }
  const unified = paths.get('');
  if (unified !== undefined && unified !== '/') return unified;
  return paths.get('memory') ?? paths.get('name=systemd') ?? unified ?? null;
}

/** Passes between refreshes of a process's cgroup (every process is refreshed within this many). */
const CGROUP_REFRESH_PASSES = 5;
/** Passes between refreshes of a process's command line. */
const CMDLINE_REFRESH_PASSES = 10;

interface CachedInfo {
  key: string;
  cmdline: string | null;
  cgroup: string | null;
  seenPass: number;
}

/** Fills the cmdline and cgroup columns of each pass's process table, reading each process once. */
export class ProcessInfoCache {
  private readonly cache = new Map<number, CachedInfo>();
  private pass = 0;

  constructor(private readonly procRoot: string) {}

  /** Fills procs.cmdline / procs.cgroup, using the main threads' comm from `tasks`. */
  fill(procs: ProcTable, tasks: TaskTable): void {
    this.pass++;
    const mainComm = new Map<number, string>();
    for (let i = 0; i < tasks.count; i++) if (tasks.tid[i] === tasks.pid[i]) mainComm.set(tasks.pid[i], tasks.comm[i]);
    for (let i = 0; i < procs.count; i++) {
      const pid = procs.pid[i];
      const key = `${procs.starttimeTicks[i]}:${mainComm.get(pid) ?? ''}`;
      let info = this.cache.get(pid);
      const fresh = !info || info.key !== key;
      if (fresh || (this.pass + pid) % CMDLINE_REFRESH_PASSES === 0) {
        const cmdline = readProcText(`${this.procRoot}/${pid}/cmdline`);
        info = { key, cmdline: cmdline === null ? null : parseCmdline(cmdline), cgroup: info?.cgroup ?? null, seenPass: 0 };
        this.cache.set(pid, info);
      }
      if (fresh || (this.pass + pid) % CGROUP_REFRESH_PASSES === 0) {
        const cgroup = readProcText(`${this.procRoot}/${pid}/cgroup`);
        info!.cgroup = cgroup === null ? null : parseCgroup(cgroup);
      }
      info!.seenPass = this.pass;
      procs.cmdline[i] = info!.cmdline;
      procs.cgroup[i] = info!.cgroup;
    }
    for (const [pid, info] of this.cache) if (info.seenPass !== this.pass) this.cache.delete(pid);
  }
}
