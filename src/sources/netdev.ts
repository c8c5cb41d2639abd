// /proc/net/dev (per interface traffic counters) and /proc/net/softnet_stat (per CPU packet
// processing by the NET_RX softirq), both of the reader's network namespace.
import type { NetDevStat, SoftnetStat } from '../model/snapshot.js';
import { readProcText } from './procFile.js';
import { sysRootOf } from './sysRoot.js';

const UINT_RE = /^\d+$/;
const HEX_RE = /^[0-9a-fA-F]{1,16}$/;
// Module-level predicates: no closure is made per call on a refresh path (README, Performance).
const isUint = (token: string): boolean => UINT_RE.test(token);
const isHex = (token: string): boolean => HEX_RE.test(token);
/** ARPHRD_LOOPBACK, as <sys>/class/net/NAME/type reports it. */
const ARPHRD_LOOPBACK = '772';

/**
 * Parses /proc/net/dev text. Each interface line is `name: 8 receive counters 8 transmit
 * counters` (old kernels print no space after the colon); the two header lines, lines without a
 * colon and lines with fewer than 16 numbers are skipped. `isLoopback` decides the mark (default:
 * the name `lo`).
 */
export function parseNetDev(text: string, isLoopback: (name: string) => boolean = (n) => n === 'lo'): NetDevStat[] {
  const out: NetDevStat[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    // Interface names cannot hold ':' or spaces, so the first colon ends the name.
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === '' || /\s|\|/.test(name) || seen.has(name)) continue;
    const tokens = line.slice(colon + 1).trim().split(/\s+/);
    if (tokens.length < 16 || !tokens.slice(0, 16).every(isUint)) continue;
    const n = tokens.map(Number);
    seen.add(name);
    out.push({
      name,
      loopback: isLoopback(name),
      rxBytes: n[0],
      rxPackets: n[1],
      rxErrs: n[2],
      rxDrop: n[3],
      txBytes: n[8],
      txPackets: n[9],
      txErrs: n[10],
      txDrop: n[11],
    });
  }
  return out;
}

/**
 * Parses /proc/net/softnet_stat text: one line of hex columns per online CPU (processed, dropped,
 * time_squeeze, ...). Kernels since 5.10 print the CPU number in column 13; older ones do not, and
 * the CPU is then the line's index (exact while no CPU is offline). Lines with fewer than 3 hex
 * columns are skipped (they still count as a line for the index).
 */
export function parseSoftnet(text: string): SoftnetStat[] {
  const out: SoftnetStat[] = [];
  const seen = new Set<number>();
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  lines.forEach((line, index) => {
    const tokens = line.trim().split(/\s+/);
    if (tokens.length < 3 || !tokens.every(isHex)) return;
    const cpu = tokens.length >= 13 ? parseInt(tokens[12], 16) : index;
    if (seen.has(cpu)) return;
    seen.add(cpu);
    out.push({ cpu, processed: parseInt(tokens[0], 16), dropped: parseInt(tokens[1], 16), timeSqueeze: parseInt(tokens[2], 16) });
  });
  return out;
}

/**
 * Reads `<procRoot>/net/dev`; null when unreadable. An interface is marked loopback by the name
 * `lo`, or by `<sysRoot>/class/net/NAME/type` where the proc root has a sysfs (sysRootOf).
 */
export function readNetDev(procRoot: string, sysRoot: string | null = sysRootOf(procRoot)): NetDevStat[] | null {
  const text = readProcText(`${procRoot}/net/dev`);
  if (text === null) return null;
  return parseNetDev(text, (name) => name === 'lo' || (sysRoot !== null && readProcText(`${sysRoot}/class/net/${name}/type`)?.trim() === ARPHRD_LOOPBACK));
}

/** Reads `<procRoot>/net/softnet_stat`; null when unreadable or empty. */
export function readSoftnet(procRoot: string): SoftnetStat[] | null {
  const text = readProcText(`${procRoot}/net/softnet_stat`);
  if (text === null) return null;
  const parsed = parseSoftnet(text);
  return parsed.length > 0 ? parsed : null;
}
