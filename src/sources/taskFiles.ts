// Pure parsers for the per-task files under /proc/PID/task/TID/: they read bytes (as pread gives
// them) and write straight into a row of the column tables, so a pass over 10000 threads makes no
// intermediate objects. Each returns false when the bytes are not a valid file of that kind.
import type { ProcTable, TaskTable } from '../model/snapshot.js';

const SPACE = 0x20;
const NEWLINE = 0x0a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;

/** Parses the unsigned or negative decimal integer at buf[pos], or NaN if there is none. */
function intAt(buf: Uint8Array, pos: number, end: number): number {
  let negative = false;
  if (pos < end && buf[pos] === MINUS) {
    negative = true;
    pos++;
  }
  if (pos >= end || buf[pos] < ZERO || buf[pos] > NINE) return NaN;
  let value = 0;
  while (pos < end && buf[pos] >= ZERO && buf[pos] <= NINE) value = value * 10 + (buf[pos++] - ZERO);
  return negative ? -value : value;
}

// Field positions after the last ')' of a stat line (0 = state, i.e. field 3 of proc(5)).
const STAT_PPID = 1;
const STAT_MINFLT = 7;
const STAT_MAJFLT = 9;
const STAT_UTIME = 11;
const STAT_STIME = 12;
const STAT_PRIORITY = 15;
const STAT_NICE = 16;
const STAT_STARTTIME = 19;
const STAT_VSIZE = 20;
const STAT_RSS = 21;
const STAT_PROCESSOR = 36;

/** Result of parsing a stat line: the state character and the comm decoded as UTF-8. */
export interface TaskStatHead {
  state: string;
  comm: string;
}

/**
 * Parses /proc/PID/task/TID/stat into row `row` of `tasks` (numeric columns only).
 * comm is taken between the first '(' and the LAST ')', since a name may contain ')' or spaces.
 * Returns null when the line has no ')' , no state or no starttime.
 */
export function parseTaskStatInto(buf: Uint8Array, len: number, tasks: TaskTable, row: number): TaskStatHead | null {
  let open = buf.indexOf(OPEN_PAREN);
  if (open >= len) open = -1;
  let close = len - 1;
  while (close > open && buf[close] !== CLOSE_PAREN) close--;
  if (open < 0 || close <= open) return null;
  let pos = close + 1;
  let field = -1;
  let state = '';
  while (pos < len) {
    while (pos < len && (buf[pos] === SPACE || buf[pos] === NEWLINE)) pos++;
    if (pos >= len) break;
    field++;
    if (field === 0) state = String.fromCharCode(buf[pos]);
    else {
      switch (field) {
        case STAT_PPID: tasks.ppid[row] = intAt(buf, pos, len); break;
        case STAT_MINFLT: tasks.minflt[row] = intAt(buf, pos, len); break;
        case STAT_MAJFLT: tasks.majflt[row] = intAt(buf, pos, len); break;
        case STAT_UTIME: tasks.utimeTicks[row] = intAt(buf, pos, len); break;
        case STAT_STIME: tasks.stimeTicks[row] = intAt(buf, pos, len); break;
        case STAT_PRIORITY: tasks.priority[row] = intAt(buf, pos, len); break;
        case STAT_NICE: tasks.nice[row] = intAt(buf, pos, len); break;
        case STAT_STARTTIME: tasks.starttimeTicks[row] = intAt(buf, pos, len); break;
        case STAT_VSIZE: tasks.vsizeBytes[row] = intAt(buf, pos, len); break;
        case STAT_RSS: tasks.rssPages[row] = intAt(buf, pos, len); break;
        case STAT_PROCESSOR: tasks.processor[row] = intAt(buf, pos, len); break;
      }
      if (field === STAT_PROCESSOR) break;
    }
    while (pos < len && buf[pos] !== SPACE && buf[pos] !== NEWLINE) pos++;
  }
  if (state === '' || Number.isNaN(tasks.starttimeTicks[row])) return null;
  return { state, comm: Buffer.from(buf.buffer, buf.byteOffset + open + 1, close - open - 1).toString('utf8') };
}

/** Parses /proc/PID/task/TID/schedstat ("runNs waitNs timeslices") into row `row`. */
export function parseSchedstatInto(buf: Uint8Array, len: number, tasks: TaskTable, row: number): boolean {
  let pos = 0;
  const values = [NaN, NaN, NaN];
  for (let i = 0; i < 3; i++) {
    while (pos < len && buf[pos] === SPACE) pos++;
    values[i] = intAt(buf, pos, len);
    while (pos < len && buf[pos] !== SPACE && buf[pos] !== NEWLINE) pos++;
  }
  if (values.some(Number.isNaN)) return false;
  tasks.runNs[row] = values[0];
  tasks.waitNs[row] = values[1];
  tasks.timeslices[row] = values[2];
  return true;
}

/** Where a "Key:\tvalue" line's key ends and its value starts, and where the next line starts. */
interface KeyLine {
  keyEnd: number;
  valueStart: number;
  next: number;
}

/**
 * Reads the line of a status or io file that starts at `lineStart` into `out`; false when it has no
 * key (out.next is set either way). A cursor, not a visitor callback: parsers loop over lines
 * without making a closure per file (README, Performance).
 */
function keyLineAt(buf: Uint8Array, len: number, lineStart: number, out: KeyLine): boolean {
  let colon = lineStart;
  while (colon < len && buf[colon] !== 0x3a && buf[colon] !== NEWLINE) colon++;
  let lineEnd = colon;
  while (lineEnd < len && buf[lineEnd] !== NEWLINE) lineEnd++;
  out.next = lineEnd + 1;
  if (colon >= lineEnd) return false;
  let value = colon + 1;
  while (value < lineEnd && (buf[value] === SPACE || buf[value] === 0x09)) value++;
  out.keyEnd = colon;
  out.valueStart = value;
  return true;
}

/** True when buf[start, end) holds exactly the ASCII key. */
function keyIs(buf: Uint8Array, start: number, end: number, key: string): boolean {
  if (end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (buf[start + i] !== key.charCodeAt(i)) return false;
  return true;
}

/**
 * Parses /proc/PID/task/TID/status: the thread's switch counters into `tasks` row `taskRow`, and,
 * when `procs` is given (the main thread), the process's Uid and memory lines into `procRow`.
 * Returns false when the switch counters are missing.
 */
export function parseTaskStatusInto(
  buf: Uint8Array,
  len: number,
  tasks: TaskTable,
  taskRow: number,
  procs: ProcTable | null,
  procRow: number,
): boolean {
  let found = 0;
  const line: KeyLine = { keyEnd: 0, valueStart: 0, next: 0 };
  for (let k = 0; k < len; k = line.next) {
    if (!keyLineAt(buf, len, k, line)) continue;
    const ke = line.keyEnd;
    const v = line.valueStart;
    const first = buf[k];
    if (first === 0x76 && keyIs(buf, k, ke, 'voluntary_ctxt_switches')) {
      tasks.vcsw[taskRow] = intAt(buf, v, len);
      found++;
    } else if (first === 0x6e && keyIs(buf, k, ke, 'nonvoluntary_ctxt_switches')) {
      tasks.ivcsw[taskRow] = intAt(buf, v, len);
      found++;
    } else if (procs !== null) {
      if (first === 0x55 && keyIs(buf, k, ke, 'Uid')) procs.uid[procRow] = intAt(buf, v, len);
      else if (first === 0x56 && keyIs(buf, k, ke, 'VmSize')) procs.vmSizeKb[procRow] = intAt(buf, v, len);
      else if (first === 0x56 && keyIs(buf, k, ke, 'VmSwap')) procs.vmSwapKb[procRow] = intAt(buf, v, len);
      else if (first === 0x52 && keyIs(buf, k, ke, 'RssAnon')) procs.rssAnonKb[procRow] = intAt(buf, v, len);
      else if (first === 0x52 && keyIs(buf, k, ke, 'RssFile')) procs.rssFileKb[procRow] = intAt(buf, v, len);
      else if (first === 0x52 && keyIs(buf, k, ke, 'RssShmem')) procs.rssShmemKb[procRow] = intAt(buf, v, len);
    }
  }
  return found === 2;
}

/** The io counters of /proc/PID/io and /proc/PID/task/TID/io, in file order. */
const IO_KEYS = ['rchar', 'wchar', 'syscr', 'syscw', 'read_bytes', 'write_bytes', 'cancelled_write_bytes'] as const;
const IO_COLUMNS = ['rchar', 'wchar', 'syscr', 'syscw', 'readBytes', 'writeBytes', 'cancelledWriteBytes'] as const;

/** Parses an io file into row `row` of a task or process table (columns it lacks are skipped). */
export function parseIoInto(buf: Uint8Array, len: number, table: TaskTable | ProcTable, row: number): boolean {
  let found = 0;
  const line: KeyLine = { keyEnd: 0, valueStart: 0, next: 0 };
  for (let k = 0; k < len; k = line.next) {
    if (!keyLineAt(buf, len, k, line)) continue;
    for (let i = 0; i < IO_KEYS.length; i++) {
      if (keyIs(buf, k, line.keyEnd, IO_KEYS[i])) {
        const column = (table as unknown as Record<string, unknown>)[IO_COLUMNS[i]];
        if (column instanceof Float64Array) column[row] = intAt(buf, line.valueStart, len);
        found++;
        break;
      }
    }
  }
  return found > 0;
}

/** Parses a wchan file: the kernel function a sleeping task waits in, or null ("0": running or hidden). */
export function parseWchan(buf: Uint8Array, len: number): string | null {
  let end = len;
  while (end > 0 && (buf[end - 1] === NEWLINE || buf[end - 1] === SPACE)) end--;
  if (end === 0 || (end === 1 && buf[0] === ZERO)) return null;
  return Buffer.from(buf.buffer, buf.byteOffset, end).toString('utf8');
}
