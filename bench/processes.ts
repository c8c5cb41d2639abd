// Child processes of the benchmarks: every child a driver starts is tracked so that a signal, an
// error or the exit of the driver can end it; the harness (bench/harness.c) whose N threads the
// readers and programs read; and what /proc says of a process's CPU time.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Resolves after `ms` milliseconds (at once when `ms` is not positive). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Every child this driver started and that has not exited yet. */
const children = new Set<ChildProcess>();

/** Adds `child` to the children that endChildren() and killChildren() reach, until it exits. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Closes the stdin of `child` and sends it SIGTERM, if it still runs. */
export function killChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      child.stdin?.end();
    } catch {
      // stdin already closed
    }
    child.kill('SIGTERM');
  }
}

/** Resolves once `child` has exited, sending it SIGKILL (and resolving) after `timeoutMs`. */
export function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Ends `child` (killChild) and waits for it to exit, with SIGKILL after `timeoutMs`. */
export async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  killChild(child);
  await waitExit(child, timeoutMs);
}

/** Ends every tracked child the gentle way (killChild), e.g. on SIGINT or a fatal error. */
export function endChildren(): void {
  for (const child of children) killChild(child);
}

/** Sends SIGKILL to every tracked child, e.g. from the driver's 'exit' handler. */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

/** Keeps the last 2000 characters `child` writes to stderr; the function returns them, trimmed. */
export function stderrTail(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-2000);
  });
  return () => text.trim();
}

/** Reads lines from a child's stdout, one request at a time, and writes lines to its stdin. */
export class LineChannel {
  private readonly lines: string[] = [];
  private waiter: ((line: string | null) => void) | null = null;
  private closed = false;

  constructor(readonly child: ChildProcess) {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(line);
      } else this.lines.push(line);
    });
    rl.on('close', () => {
      this.closed = true;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(null);
      }
    });
  }

  /** The next line, or null once stdout closed or after timeoutMs. */
  next(timeoutMs: number): Promise<string | null> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, timeoutMs);
      this.waiter = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  }

  /** Writes `line` and a newline to the child's stdin. */
  send(line: string): void {
    this.child.stdin!.write(line + '\n');
  }
}

/** A tracked child with piped stdio: its stdout as a LineChannel and the tail of its stderr. */
export interface Started {
  child: ChildProcess;
  channel: LineChannel;
  tail: () => string;
}

/** Spawns `command args` with piped stdin, stdout and stderr, tracked (see track()). */
export function startChild(command: string, args: readonly string[]): Started {
  const child = track(spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  const tail = stderrTail(child);
  return { child, channel: new LineChannel(child), tail };
}

// ---------------------------------------------------------------------------------------------
// The harness

/** How the harness's threads behave: an idle pool, or every thread busy once a second. */
export type Shape = 'idle' | 'busy';

/** Every shape, in the order the benchmarks run them by default. */
export const SHAPES: readonly Shape[] = ['idle', 'busy'];

/** A shape in words, for the reports' headings. */
export const SHAPE_TEXT: Record<Shape, string> = {
  idle: 'idle pool: each thread wakes once a minute',
  busy: 'busy: each thread wakes every second for ~3 µs of work',
};

/** A running harness: the pid it reported (its threads' process) and the child. */
export interface Harness {
  pid: number;
  child: ChildProcess;
}

/** Starts bench/.build/harness with `threads` threads of `shape` and waits (≤ 2 min) for its "ready PID" line. */
export async function startHarness(binary: string, threads: number, shape: Shape): Promise<Harness> {
  const { child, channel, tail } = startChild(binary, [String(threads), shape]);
  const line = await channel.next(120_000);
  const m = line === null ? null : /^ready (\d+)$/.exec(line);
  if (!m) {
    await stopChild(child, 5000);
    throw new Error(`harness ${threads} ${shape} did not start: ${tail() || line || 'no output'}`);
  }
  return { pid: Number(m[1]), child };
}

/** Ends the harness and waits for it (SIGKILL after 10 s). */
export async function stopHarness(harness: Harness): Promise<void> {
  await stopChild(harness.child, 10_000);
}

// ---------------------------------------------------------------------------------------------
// /proc of a process

/** Sum of the on-CPU nanoseconds of every thread of `pid` (schedstat; a thread that ended meanwhile is skipped). */
export function schedNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended
    }
  }
  return total;
}
