import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseLoadAvg, readLoadAvg } from '../../src/sources/loadavg.js';
import { parseMeminfo, readMeminfo } from '../../src/sources/meminfo.js';
import { parsePressure, readPressure } from '../../src/sources/pressure.js';
import { readProcText } from '../../src/sources/procFile.js';
import { parseProcStat, readProcStat } from '../../src/sources/procStat.js';
import { parseSoftirqs, readSoftirqs } from '../../src/sources/softirqs.js';
import { parseVmstat, readVmstat } from '../../src/sources/vmstat.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/proc', import.meta.url));
const fx = (scenario: string): string => `${FIXTURES}/${scenario}`;

/** CPU times in the kernel's column order, for compact expectations. */
function times(...v: number[]) {
  const [user, nice, system, idle, iowait, irq, softirq, steal, guest, guestNice] = v;
  return { user, nice, system, idle, iowait, irq, softirq, steal, guest, guestNice };
}

describe('readProcText', () => {
  it('returns the file text', () => {
    expect(readProcText(`${fx('basic')}/loadavg`)).toBe('0.23 0.13 0.05 1/10093 24095\n');
  });

  it('returns null for absent paths (ENOENT) and paths through a file (ENOTDIR)', () => {
    expect(readProcText(`${fx('basic')}/nonexistent`)).toBeNull();
    expect(readProcText(`${fx('basic')}/stat/inside`)).toBeNull();
    expect(readProcText('/proc/999999999/stat')).toBeNull();
  });

  it('rethrows other errors (EISDIR)', () => {
    expect(() => readProcText(fx('basic'))).toThrow(/EISDIR/);
  });
});

describe('parseProcStat / readProcStat', () => {
  it('parses the basic fixture (a copy of this machine)', () => {
    const s = readProcStat(fx('basic'));
    expect(s).not.toBeNull();
    expect(s!.total).toEqual(times(2672, 0, 2039, 41100, 264, 0, 23, 12, 0, 0));
    expect(s!.cpus).toEqual([
      { cpu: 0, times: times(1084, 0, 862, 21105, 13, 0, 5, 4, 0, 0) },
      { cpu: 1, times: times(1587, 0, 1176, 19994, 251, 0, 17, 7, 0, 0) },
    ]);
    expect(s!.ctxt).toBe(445282);
    expect(s!.intrTotal).toBe(205924);
    expect(s!.processes).toBe(24094);
    expect(s!.procsRunning).toBe(1);
    expect(s!.procsBlocked).toBe(0);
    expect(s!.bootTimeSec).toBe(1795665566);
  });

  it('lists only the CPUs that have a line, with their own numbers (cpu2 offline)', () => {
    const s = readProcStat(fx('offline-cpu'))!;
    expect(s.cpus.map((c) => c.cpu)).toEqual([0, 1, 3]);
    expect(s.cpus[2].times).toEqual(times(4900, 8, 1950, 90100, 310, 0, 45, 0, 0, 0));
    // The total keeps the offline CPU's ticks from before it went offline.
    expect(s.total).toEqual(times(15900, 30, 6350, 279900, 910, 0, 125, 0, 0, 0));
    expect(s.ctxt).toBe(15234567);
    expect(s.intrTotal).toBe(8812345);
    expect(s.procsRunning).toBe(3);
    expect(s.procsBlocked).toBe(1);
  });

  it('accepts cpu lines with only 8 columns (guest and guest_nice not accounted: 0)', () => {
    const s = readProcStat(fx('old-kernel'))!;
    expect(s.total).toEqual(times(120331, 2210, 44012, 3301120, 9021, 301, 2002, 0, 0, 0));
    expect(s.cpus.map((c) => c.cpu)).toEqual([0, 1]);
    expect(s.cpus[1].times).toEqual(times(60231, 1110, 22002, 1650620, 4521, 0, 502, 0, 0, 0));
    expect(s.intrTotal).toBe(9033412);
    expect(s.bootTimeSec).toBe(1262304000);
  });

  it('skips cpu lines with fewer than 8 numbers, and ignores numbers past the 10th', () => {
    const s = parseProcStat('cpu  1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7 8 9 10 11\ncpu1 1 2 3\n');
    expect(Number.isNaN(s.total.user)).toBe(true);
    expect(s.cpus).toEqual([{ cpu: 0, times: times(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) }]);
  });

  it('skips what it cannot parse in garbage and keeps the rest', () => {
    const s = readProcStat(fx('garbage'))!;
    expect(s.total).toEqual(times(100, 0, 50, 1000, 5, 0, 2, 0, 0, 0)); // the later duplicate is ignored
    expect(s.cpus).toEqual([{ cpu: 0, times: times(60, 0, 30, 500, 3, 0, 1, 0, 0, 0) }]);
    expect(s.ctxt).toBeNull();
    expect(s.intrTotal).toBeNull();
    expect(s.processes).toBeNull();
    expect(s.procsRunning).toBe(3);
    expect(s.procsBlocked).toBeNull();
    expect(s.bootTimeSec).toBe(1700000000);
  });

  it('gives nulls (never zeros) for absent lines and NaN totals for an empty file', () => {
    const s = parseProcStat('');
    expect(s.cpus).toEqual([]);
    expect(Object.values(s.total).every(Number.isNaN)).toBe(true);
    expect([s.ctxt, s.intrTotal, s.processes, s.procsRunning, s.procsBlocked, s.bootTimeSec]).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it('readProcStat returns null for a missing proc root', () => {
    expect(readProcStat(`${FIXTURES}/no-such-scenario`)).toBeNull();
  });
});

describe('parseSoftirqs / readSoftirqs', () => {
  it('parses the basic fixture', () => {
    const s = readSoftirqs(fx('basic'))!;
    expect(s.cpus).toEqual([0, 1]);
    expect(Object.keys(s.counts)).toEqual([
      'HI', 'TIMER', 'NET_TX', 'NET_RX', 'BLOCK', 'IRQ_POLL', 'TASKLET', 'SCHED', 'HRTIMER', 'RCU',
    ]);
    expect(s.counts.TIMER).toEqual([3879, 3677]);
    expect(s.counts.BLOCK).toEqual([0, 30485]);
    expect(s.counts.RCU).toEqual([9015, 9988]);
  });

  it('keeps the column of an offline CPU (the kernel prints every possible CPU)', () => {
    const s = readSoftirqs(fx('offline-cpu'))!;
    expect(s.cpus).toEqual([0, 1, 2, 3]);
    expect(s.counts.TIMER).toEqual([101000, 100500, 20001, 178500]);
    expect(s.counts.NET_RX).toEqual([20000, 12000, 1000, 19000]);
  });

  it('takes CPU numbers from the header, gaps included', () => {
    const s = parseSoftirqs('      CPU0  CPU2  CPU5\n   TIMER:  1  2  3\n     RCU:  4  5  6\n');
    expect(s.cpus).toEqual([0, 2, 5]);
    expect(s.counts).toEqual({ TIMER: [1, 2, 3], RCU: [4, 5, 6] });
  });

  it('skips short and garbled rows in garbage', () => {
    const s = readSoftirqs(fx('garbage'))!;
    expect(s.cpus).toEqual([0, 1]);
    expect(s.counts).toEqual({ HI: [0, 0], SCHED: [9670, 10253], HRTIMER: [0, 0] });
  });

  it('gives an empty result for text without a header, and readSoftirqs null for an empty file', () => {
    expect(parseSoftirqs('')).toEqual({ cpus: [], counts: {} });
    expect(parseSoftirqs('TIMER: 1 2\n')).toEqual({ cpus: [], counts: {} });
    expect(readSoftirqs(fx('old-kernel'))).toBeNull(); // no softirqs file there
  });
});

describe('parseLoadAvg / readLoadAvg', () => {
  it('parses the fixtures', () => {
    expect(readLoadAvg(fx('basic'))).toEqual({ load1: 0.23, load5: 0.13, load15: 0.05, runnable: 1, total: 10093 });
    expect(readLoadAvg(fx('offline-cpu'))).toEqual({ load1: 2.51, load5: 1.98, load15: 1.4, runnable: 3, total: 412 });
  });

  it('is null for truncated or garbled text, NaN counts when only the R/T field is bad', () => {
    expect(readLoadAvg(fx('garbage'))).toBeNull();
    expect(parseLoadAvg('')).toBeNull();
    expect(parseLoadAvg('a b c 1/2 3')).toBeNull();
    const partial = parseLoadAvg('0.50 0.40 0.30 12')!;
    expect([partial.load1, partial.load5, partial.load15]).toEqual([0.5, 0.4, 0.3]);
    expect(Number.isNaN(partial.runnable) && Number.isNaN(partial.total)).toBe(true);
  });
});

describe('parseMeminfo / readMeminfo', () => {
  it('parses the basic fixture in kB, and unitless lines as counts', () => {
    const m = readMeminfo(fx('basic'))!;
    expect(m.MemTotal).toBe(24684084);
    expect(m.MemFree).toBe(23977760);
    expect(m['Active(anon)']).toBe(1540);
    expect(m.VmallocTotal).toBe(34359738367);
    expect(m.HugePages_Total).toBe(0);
    expect(m.Hugepagesize).toBe(2048);
    expect(m.DirectMap1G).toBe(25165824);
    expect(Object.keys(m).length).toBe(54);
  });

  it('reports SwapTotal 0 as written', () => {
    const m = readMeminfo(fx('no-psi-no-swap'))!;
    expect(m.MemTotal).toBe(4015852);
    expect(m.MemAvailable).toBe(3402112);
    expect(m.SwapTotal).toBe(0);
    expect(m.SwapFree).toBe(0);
    expect(m.Zswap).toBeUndefined();
  });

  it('skips garbled lines', () => {
    const m = readMeminfo(fx('garbage'))!;
    expect({ ...m }).toEqual({ MemTotal: 1024000, SwapTotal: 0, HugePages_Total: 4 });
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
  });

  it('readMeminfo is null for an empty or absent file', () => {
    expect(parseMeminfo('')).toEqual({});
    expect(readMeminfo(fx('old-kernel'))).toBeNull();
  });
});

describe('parseVmstat / readVmstat', () => {
  it('parses the basic fixture', () => {
    const v = readVmstat(fx('basic'))!;
    expect(v.nr_free_pages).toBe(927867);
    expect(v.pgfault).toBe(1292521);
    expect(v.pgmajfault).toBe(774);
    expect(v.pswpin).toBe(0);
    expect(v.nr_unstable).toBe(0);
    expect(Object.keys(v).length).toBe(192);
  });

  it('parses the no-psi-no-swap fixture', () => {
    const v = readVmstat(fx('no-psi-no-swap'))!;
    expect(v.pgpgout).toBe(9920164);
    expect(v.pgmajfault).toBe(8812);
    expect(Object.keys(v).length).toBe(18);
  });

  it('skips garbled lines', () => {
    expect({ ...readVmstat(fx('garbage')) }).toEqual({ nr_free_pages: 1000, pswpin: 7 });
    expect(parseVmstat('')).toEqual({});
    expect(readVmstat(fx('offline-cpu'))).toBeNull();
  });
});

describe('parsePressure / readPressure', () => {
  it('parses the basic fixture', () => {
    const p = readPressure(fx('basic'));
    expect(p.cpu).toEqual({
      some: { avg10: 7.84, avg60: 2.84, avg300: 1.41, totalUs: 7205147 },
      full: { avg10: 0, avg60: 0, avg300: 0, totalUs: 0 },
    });
    expect(p.io).toEqual({
      some: { avg10: 0.15, avg60: 0.25, avg300: 0.38, totalUs: 2408293 },
      full: { avg10: 0.15, avg60: 0.24, avg300: 0.37, totalUs: 2279047 },
    });
    // A real zero (no memory stall since boot) is 0, not null.
    expect(p.memory).toEqual({
      some: { avg10: 0, avg60: 0, avg300: 0, totalUs: 0 },
      full: { avg10: 0, avg60: 0, avg300: 0, totalUs: 0 },
    });
  });

  it('gives full null for a cpu file without a full line', () => {
    const p = readPressure(fx('old-kernel'));
    expect(p.cpu).toEqual({ some: { avg10: 1.25, avg60: 0.8, avg300: 0.33, totalUs: 81233941 }, full: null });
    expect(p.io!.full).toEqual({ avg10: 2.9, avg60: 1.8, avg300: 1.01, totalUs: 1900442310 });
  });

  it('gives null for every file when there is no pressure directory (never zeros)', () => {
    expect(readPressure(fx('no-psi-no-swap'))).toEqual({ cpu: null, memory: null, io: null });
  });

  it('gives null for garbled or empty files, and keeps a good some line when full is truncated', () => {
    const p = readPressure(fx('garbage'));
    expect(p.cpu).toBeNull();
    expect(p.memory).toEqual({ some: { avg10: 0.1, avg60: 0.2, avg300: 0.3, totalUs: 12345 }, full: null });
    expect(p.io).toBeNull();
    expect(parsePressure('some avg10=1.00 avg60=1.00 avg300=1.00')).toBeNull();
  });
});

describe('robustness', () => {
  /** Small deterministic PRNG (mulberry32) so failures reproduce. */
  function rng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const parsers: Array<[string, (text: string) => unknown]> = [
    ['stat', parseProcStat],
    ['softirqs', parseSoftirqs],
    ['loadavg', parseLoadAvg],
    ['meminfo', parseMeminfo],
    ['vmstat', parseVmstat],
    ['pressure/memory', parsePressure],
  ];

  it.each(parsers)('%s parser never throws on truncated or mangled text', (file, parse) => {
    const original = readFileSync(`${fx('basic')}/${file}`, 'utf8');
    const rand = rng(file.length * 7919);
    const junk = ' \t\n:=/.-0123456789abcxyzCPU\u0000\u00ff\ufffd';
    for (let i = 0; i < 300; i++) {
      let text = original.slice(0, Math.floor(rand() * (original.length + 1)));
      const edits = Math.floor(rand() * 6);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * (text.length + 1));
        text = text.slice(0, at) + junk[Math.floor(rand() * junk.length)] + text.slice(at + 1);
      }
      expect(() => parse(text)).not.toThrow();
    }
    for (const odd of ['', '\n\n', '\u0000', 'constructor 1\n__proto__ 2\ntoString: 3 kB\n', ' '.repeat(1000)]) {
      expect(() => parse(odd)).not.toThrow();
    }
  });
});

describe('live /proc on this machine', () => {
  it('reads /proc/stat with one entry per cpuN line and consistent totals', () => {
    const text = readFileSync('/proc/stat', 'utf8');
    const cpuLines = text.split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
    const s = readProcStat('/proc')!;
    expect(s).not.toBeNull();
    expect(s.cpus.length).toBe(cpuLines);
    expect(s.cpus.length).toBeGreaterThan(0);
    for (const k of ['ctxt', 'intrTotal', 'processes', 'procsRunning', 'procsBlocked', 'bootTimeSec'] as const) {
      expect(s[k], k).not.toBeNull();
    }
    // The total line is the sum over CPUs (read at a slightly different instant; offline CPUs keep
    // their old ticks in it).
    const busyIdle = (t: typeof s.total) => t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
    const sum = s.cpus.reduce((acc, c) => acc + busyIdle(c.times), 0);
    expect(Math.abs(busyIdle(s.total) - sum)).toBeLessThanOrEqual(0.01 * busyIdle(s.total) + 10 * s.cpus.length);
    // Boot time agrees with uptime.
    const uptimeSec = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expect(Math.abs(Date.now() / 1000 - uptimeSec - s.bootTimeSec!)).toBeLessThan(5);
  });

  it('sees context switches increase across two reads 100 ms apart', async () => {
    const a = readProcStat('/proc')!;
    await new Promise((r) => setTimeout(r, 100));
    const b = readProcStat('/proc')!;
    expect(b.ctxt!).toBeGreaterThan(a.ctxt!);
    expect(b.intrTotal!).toBeGreaterThanOrEqual(a.intrTotal!);
    expect(b.processes!).toBeGreaterThanOrEqual(a.processes!);
    const ticks = (s: typeof a) => s.total.idle + s.total.user + s.total.system;
    expect(ticks(b)).toBeGreaterThanOrEqual(ticks(a));
  });

  it('reads /proc/softirqs with a column for every online CPU', () => {
    const s = readSoftirqs('/proc')!;
    expect(s).not.toBeNull();
    const stat = readProcStat('/proc')!;
    for (const c of stat.cpus) expect(s.cpus).toContain(c.cpu);
    expect(s.counts.TIMER).toHaveLength(s.cpus.length);
    expect(s.counts.TIMER.every((n) => n >= 0)).toBe(true);
  });

  it('reads /proc/loadavg', () => {
    const l = readLoadAvg('/proc')!;
    expect(l).not.toBeNull();
    expect(l.runnable).toBeGreaterThanOrEqual(1); // the reader itself is running
    expect(l.total).toBeGreaterThanOrEqual(l.runnable);
    expect(l.load1).toBeGreaterThanOrEqual(0);
  });

  it('reads /proc/meminfo with MemTotal matching free -k within 1%', () => {
    const m = readMeminfo('/proc')!;
    expect(m).not.toBeNull();
    const memLine = execFileSync('free', ['-k'], { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Mem:'))!;
    const freeTotal = Number(memLine.trim().split(/\s+/)[1]);
    expect(Math.abs(m.MemTotal - freeTotal)).toBeLessThanOrEqual(0.01 * freeTotal);
    expect(m.MemFree).toBeLessThanOrEqual(m.MemTotal);
    expect(m.SwapFree).toBeLessThanOrEqual(m.SwapTotal);
  });

  it('reads /proc/vmstat', () => {
    const v = readVmstat('/proc')!;
    expect(v).not.toBeNull();
    expect(v.pgfault).toBeGreaterThan(0);
    expect(v.nr_free_pages).toBeGreaterThan(0);
  });

  it('reads /proc/pressure as PSI files when present, null when not', () => {
    const p = readPressure('/proc');
    for (const f of ['cpu', 'memory', 'io'] as const) {
      if (existsSync(`/proc/pressure/${f}`)) {
        expect(p[f], f).not.toBeNull();
        expect(p[f]!.some.avg10).toBeGreaterThanOrEqual(0);
      } else {
        expect(p[f], f).toBeNull();
      }
    }
  });
});
