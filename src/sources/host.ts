// Host constants that rate maths needs (CLK_TCK, page size, CPU count) and the host's identity.
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import type { HostInfo } from '../model/snapshot.js';
import { readProcText } from './procFile.js';

/** Constants the native addon reads with sysconf(), when it is loaded. */
export interface SysconfConstants {
  clkTck: number;
  pageSizeBytes: number;
  cpuCount: number;
}

/** Runs `getconf NAME` and returns its number, or null when that fails. */
function getconf(name: string): number | null {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}

/**
 * Host facts for a proc root: hostname and kernel release from `<root>/sys/kernel/` when present
 * (so fixture trees describe their own host), CLK_TCK and page size from sysconf (via the addon,
 * or `getconf` without it), and the Meltdown mitigation state from /sys (live /proc only).
 */
export function readHostInfo(procRoot: string, sysconf: SysconfConstants | null): HostInfo {
  const hostname = readProcText(`${procRoot}/sys/kernel/hostname`)?.trim() || os.hostname();
  const kernelRelease = readProcText(`${procRoot}/sys/kernel/osrelease`)?.trim() || os.release();
  return {
    hostname,
    kernelRelease,
    clkTck: sysconf?.clkTck ?? getconf('CLK_TCK') ?? 100,
    pageSizeBytes: sysconf?.pageSizeBytes ?? getconf('PAGESIZE') ?? 4096,
    cpuCount: sysconf?.cpuCount ?? os.cpus().length,
    // /sys belongs to the live host: a fixture proc root says nothing about it.
    meltdown: procRoot === '/proc' ? (readProcText('/sys/devices/system/cpu/vulnerabilities/meltdown')?.trim() ?? null) : null,
  };
}

/** Seconds since boot from `<root>/uptime`, or null. */
export function readUptimeS(procRoot: string): number | null {
  const text = readProcText(`${procRoot}/uptime`);
  const value = text === null ? NaN : Number(text.split(' ')[0]);
  return Number.isFinite(value) ? value : null;
}
