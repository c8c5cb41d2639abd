// Workloads for the screenshot scenes: each runs in a process group of its own and is stopped by its
// recorded id; every setup step registers its undo on a Cleanup, which runs even when a scene fails.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep } from './tmuxApp.js';

/** Undo steps of one scene, run last-in first-out. */
export class Cleanup {
  private readonly steps: Array<{ what: string; undo: () => void | Promise<void> }> = [];

  /** Registers `undo`, described by `what` in error messages. */
  add(what: string, undo: () => void | Promise<void>): void {
    this.steps.push({ what, undo });
  }

  /** Runs every step (newest first); a failing step is reported and the others still run. */
  async run(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.undo();
      } catch (err) {
        console.error(`  cleanup "${step.what}" failed: ${err instanceof Error ? err.message : err}`);
      }
    }
  }
}

/** Full path of an executable on PATH or in the sbin directories, or null. */
export function which(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const full = path.join(dir, name);
    try {
      fs.accessSync(full, fs.constants.X_OK);
      if (fs.statSync(full).isFile()) return full;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** What a scene needs: tools on PATH, root, kernel files. */
export interface Needs {
  tools?: string[];
  root?: boolean;
  paths?: string[];
}

/** Why a scene cannot run here, or null when it can. */
export function missing(needs: Needs): string | null {
  const out: string[] = [];
  if (needs.root && process.getuid?.() !== 0) out.push('root privileges');
  for (const t of needs.tools ?? []) if (which(t) === null) out.push(`'${t}' on PATH`);
  for (const p of needs.paths ?? []) if (!fs.existsSync(p)) out.push(p);
  return out.length === 0 ? null : `needs ${out.join(', ')}`;
}

/** Busy and total CPU time (jiffies) of all CPUs since boot, from /proc/stat. */
function cpuTimes(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user and nice).
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

/**
 * Waits (up to `timeoutMs`) until the CPUs are less than `maxBusyPct` busy over one second, so
 * other programs disturb the shots as little as possible; resolves to the last busy percentage.
 */
export async function waitForQuiet(maxBusyPct: number, timeoutMs = 60000): Promise<number> {
  const end = Date.now() + timeoutMs;
  let said = false;
  for (;;) {
    const a = cpuTimes();
    await sleep(1000);
    const b = cpuTimes();
    const pct = Math.round((100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total));
    if (pct < maxBusyPct || Date.now() >= end) return pct;
    if (!said) console.log(`  the CPUs are ${pct}% busy: waiting up to ${timeoutMs / 1000} s for a quieter moment`);
    said = true;
  }
}

/** Runs a command to completion, throwing with its stderr when it fails. */
function run(argv: string[]): void {
  try {
    execFileSync(which(argv[0]) ?? argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`${argv.join(' ')} failed${stderr ? `: ${stderr}` : ''}`);
  }
}

/**
 * Starts `argv` in a process group of its own; the cleanup stops the whole group (TERM, then KILL
 * after 3 s). Throws if it exits within the first `settleMs` (a workload that did not start).
 */
export async function startGroup(cleanup: Cleanup, argv: string[], settleMs = 500): Promise<void> {
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.once('error', (err) => (stderr += err.message));
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`could not start ${argv[0]}`);
  cleanup.add(`stop ${argv[0]}`, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-pgid, 'SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
    if (!stopped) {
      process.kill(-pgid, 'SIGKILL');
      await exited;
    }
  });
  await sleep(settleMs);
  if (child.exitCode !== null) throw new Error(`${argv.join(' ')} exited with status ${child.exitCode}: ${stderr.trim()}`);
}

/** Waits until something listens on TCP `port` (per /proc/net/tcp and tcp6). */
export async function waitForListener(port: number, timeoutMs = 5000): Promise<void> {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  // Fields: sl local_address rem_address st ...; state 0A is LISTEN.
  const listening = (line: string): boolean => {
    const f = line.trim().split(/\s+/);
    return f[1]?.endsWith(suffix) === true && f[3] === '0A';
  };
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').split('\n').some(listening)) return;
    }
    await sleep(100);
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
}

/** C source of a parent that blocks in vfork() (state D) while its child sleeps 60 s. */
const VFORK_SOURCE = `#include <unistd.h>
int main(void) {
  if (vfork() == 0) {
    sleep(60);
    _exit(0);
  }
  return 0;
}
`;

/** Compiles the vfork program into `dir` and returns its path (its name is what whytop shows). */
export function compileVforkHolder(dir: string): string {
  const src = path.join(dir, 'vfork-holder.c');
  const bin = path.join(dir, 'vfork-holder');
  fs.writeFileSync(src, VFORK_SOURCE);
  run(['cc', '-O2', '-o', bin, src]);
  return bin;
}

/** Swap file and memory cgroup of the swap-storm scene. */
const SWAP_FILE = '/var/tmp/whytop-shot.swap';
const MEMCG = '/sys/fs/cgroup/memory/whytop-shot';

/** True when `file` is an active swap area. */
function swapActive(file: string): boolean {
  return fs.readFileSync('/proc/swaps', 'utf8').split('\n').some((l) => l.split(/\s+/)[0] === file);
}

/** Removes the memory cgroup once its last task has left (rmdir fails while tasks remain). */
async function removeMemcg(): Promise<void> {
  const end = Date.now() + 5000;
  while (fs.readFileSync(path.join(MEMCG, 'cgroup.procs'), 'utf8').trim() !== '' && Date.now() < end) await sleep(100);
  fs.rmdirSync(MEMCG);
}

/** Removes what an interrupted earlier run may have left (the swap file, an empty cgroup). */
async function removeLeftovers(): Promise<void> {
  if (fs.existsSync(SWAP_FILE)) {
    console.log(`  removing ${SWAP_FILE} left by an earlier run`);
    if (swapActive(SWAP_FILE)) run(['swapoff', SWAP_FILE]);
    fs.rmSync(SWAP_FILE);
  }
  if (fs.existsSync(MEMCG)) {
    console.log(`  removing ${MEMCG} left by an earlier run`);
    await removeMemcg();
  }
}

/**
 * A swap storm: a 1 GiB swap file, a 256 MiB memory cgroup (v1) and stress-ng keeping 600 MiB in it.
 * The cleanup kills stress-ng, removes the cgroup, turns the swap off and deletes the file.
 */
export async function startSwapStorm(cleanup: Cleanup): Promise<void> {
  await removeLeftovers();
  run(['fallocate', '-l', '1G', SWAP_FILE]);
  cleanup.add('remove the swap file', () => fs.rmSync(SWAP_FILE, { force: true }));
  fs.chmodSync(SWAP_FILE, 0o600);
  run(['mkswap', SWAP_FILE]);
  run(['swapon', SWAP_FILE]);
  cleanup.add('swapoff', () => run(['swapoff', SWAP_FILE]));
  fs.mkdirSync(MEMCG);
  cleanup.add('remove the memory cgroup', removeMemcg);
  fs.writeFileSync(path.join(MEMCG, 'memory.limit_in_bytes'), '256M');
  const procs = path.join(MEMCG, 'cgroup.procs');
  await startGroup(cleanup, ['sh', '-c', `echo $$ > '${procs}'; exec stress-ng --vm 1 --vm-bytes 600M --vm-keep -t 60`]);
}
