// What a thread is doing inside the kernel right now: its kernel stack and current syscall. Read on
// demand for the thread detail view (never per pass); both files need root or ptrace access.
import { readProcText } from './procFile.js';
import { SYSCALLS_ARM64, SYSCALLS_X86_64 } from './syscallNames.js';

/** The syscall a thread is in, from /proc/PID/task/TID/syscall. */
export type CurrentSyscall =
  | { kind: 'running' }
  | { kind: 'none' }
  | { kind: 'syscall'; nr: number; name: string | null; args: string[] };

/** A thread's kernel-side state; null fields were not readable (not permitted, or gone). */
export interface TaskKernelDetail {
  stack: string[] | null;
  syscall: CurrentSyscall | null;
}

/** Name of syscall `nr` on a CPU architecture (Node's os.arch() names); null when unknown. */
export function syscallName(nr: number, arch: string): string | null {
  const table = arch === 'x64' ? SYSCALLS_X86_64 : arch === 'arm64' ? SYSCALLS_ARM64 : null;
  return table?.[nr] ?? null;
}

/** Parses the syscall file: "running", "-1 sp pc" (not in a syscall) or "nr a1 .. a6 sp pc". */
export function parseSyscall(text: string, arch: string): CurrentSyscall | null {
  const fields = text.trim().split(/\s+/);
  if (fields[0] === 'running') return { kind: 'running' };
  const nr = Number(fields[0]);
  if (!Number.isInteger(nr)) return null;
  if (nr < 0) return { kind: 'none' };
  return { kind: 'syscall', nr, name: syscallName(nr, arch), args: fields.slice(1, 7) };
}

/** Parses a kernel stack file ("[<0>] func+0x74/0xf0" per line) into function names with offsets. */
export function parseStack(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/^\[<[0-9a-fx]+>\]\s*/, '').trim())
    .filter((line) => line !== '');
}

/** Reads the kernel stack and current syscall of one thread. */
export function readTaskKernelDetail(procRoot: string, pid: number, tid: number, arch: string): TaskKernelDetail {
  const dir = `${procRoot}/${pid}/task/${tid}`;
  const stack = readProcText(`${dir}/stack`);
  const syscall = readProcText(`${dir}/syscall`);
  return { stack: stack === null ? null : parseStack(stack), syscall: syscall === null ? null : parseSyscall(syscall, arch) };
}
