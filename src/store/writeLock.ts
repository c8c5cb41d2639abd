// One writer per recording: `record`, the TUI's R and W take a lock file beside the recording
// (FILE.lock), created atomically with the writer's pid, process start time and boot id in it. A lock
// whose writer is gone (crash, kill -9, reboot) is stale and taken over; two writers that find the
// same stale lock at once cannot both take it (the one that moves it aside checks what it moved).
import { basename, dirname, join } from 'node:path';
import { linkSync, readFileSync, realpathSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { readProcText } from '../sources/procFile.js';
import { RecordingError } from './format.js';

/** A held lock on a recording. */
export interface WriteLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file (when it is still this process's). */
  release(): void;
}

/** Who holds a lock. */
interface Owner {
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/PID/stat field 22); null when unknown. */
  startTicks: number | null;
  /** /proc/sys/kernel/random/boot_id when the lock was taken; null when unknown. */
  bootId: string | null;
}

/** Lock files this process holds. */
const held = new Set<string>();

/** The lock file of a recording: beside the file it names, symbolic links followed. */
export function lockPathOf(recording: string): string {
  let target: string;
  try {
    target = realpathSync(recording);
  } catch {
    target = join(realpathSync(dirname(recording)), basename(recording));
  }
  return `${target}.lock`;
}

function startTicksOf(pid: number): number | null {
  const stat = readProcText(`/proc/${pid}/stat`);
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields?.[19]);
  return Number.isFinite(ticks) ? ticks : null;
}

function currentBootId(): string | null {
  return readProcText('/proc/sys/kernel/random/boot_id')?.trim() || null;
}

/** The lock file's text for this process. */
function ownText(): string {
  return `${process.pid} ${startTicksOf(process.pid) ?? '-'} ${currentBootId() ?? '-'}\n`;
}

/** Parses a lock file's text; null when it is not one. */
function parseOwner(text: string): Owner | null {
  const m = /^(\d+) (\d+|-) (\S+)\n$/.exec(text);
  if (!m) return null;
  return { pid: Number(m[1]), startTicks: m[2] === '-' ? null : Number(m[2]), bootId: m[3] === '-' ? null : m[3] };
}

/** Whether the process that wrote a lock still runs (and so still holds it). */
function ownerAlive(owner: Owner, lockPath: string): boolean {
  const bootId = currentBootId();
  if (owner.bootId && bootId && owner.bootId !== bootId) return false;
  if (owner.pid === process.pid) return held.has(lockPath);
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const ticks = owner.startTicks === null ? null : startTicksOf(owner.pid);
  return ticks === null || ticks === owner.startTicks;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Creates the lock file with `text` in one step; false when it exists. */
function create(lockPath: string, text: string): boolean {
  const temp = `${lockPath}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  try {
    linkSync(temp, lockPath);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    // A file system without hard links: exclusive create, then the text.
    try {
      writeFileSync(lockPath, text, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  } finally {
    unlinkQuietly(temp);
  }
}

/**
 * Takes the write lock of `recording`, or throws a RecordingError naming the process that holds it.
 * Call before opening the recording for writing; release after closing it.
 */
export function lockForWriting(recording: string): WriteLock {
  const lockPath = lockPathOf(recording);
  const text = ownText();
  const created = (): boolean => {
    try {
      return create(lockPath, text);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new RecordingError(`${recording}: cannot create its lock file ${lockPath} (${code}): its directory must be writable`);
    }
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (!held.has(lockPath) && created()) {
      held.add(lockPath);
      return {
        path: lockPath,
        release: () => {
          if (!held.delete(lockPath)) return;
          if (readText(lockPath) === text) unlinkQuietly(lockPath);
        },
      };
    }
    const found = readText(lockPath);
    if (found === null) continue;
    const owner = parseOwner(found);
    if (owner && ownerAlive(owner, lockPath)) {
      const who = owner.pid === process.pid ? 'this whytop' : `process ${owner.pid}`;
      throw new RecordingError(`${recording} is being written by ${who}: refusing a second writer (lock ${lockPath})`);
    }
    // Stale: move it aside; when what was moved is not what was judged stale, another writer has
    // just taken the lock over: put theirs back.
    const aside = `${lockPath}.${process.pid}.stale`;
    try {
      renameSync(lockPath, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (readText(aside) !== found) {
      try {
        linkSync(aside, lockPath);
      } catch {
        // a third writer holds it now; it will be found on the next attempt
      }
    }
    unlinkQuietly(aside);
  }
  throw new RecordingError(`${recording}: cannot take its write lock ${lockPath}`);
}
