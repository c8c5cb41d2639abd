// Live: `whytop serve` scraped by a real Prometheus (Debian's package). Prometheus runs on loopback
// with a scrape config pointing at whytop; the test waits for scrapes, then asks Prometheus' HTTP
// API whether the series exist and move under a workload: a CPU hog raises user time on its CPU,
// a swap storm in a small memory cgroup raises swap-out.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BIN,
  compileC,
  makeSwapFile,
  missingPrereqs,
  removeCgroupDir,
  removeSwapFile,
  report,
  sleep,
  start,
  stopAll,
  swapActive,
  titled,
  TOUCHER_C,
} from './workload.js';

const WHYTOP_PORT = 19947;
const PROM_PORT = 19090;
const CGROUP = '/sys/fs/cgroup/memory/whytop-prom-test';
const SWAPFILE = '/var/tmp/whytop-prom-test.swap';
const MiB = 1024 * 1024;

const skip = missingPrereqs({ root: true, tools: ['prometheus', 'stress-ng', 'cc', 'mkswap', 'swapon', 'swapoff', 'sh'], paths: ['/sys/fs/cgroup/memory/cgroup.procs', '/proc/swaps'] });

afterAll(async () => {
  await stopAll();
  await removeCgroupDir(CGROUP);
  if (swapActive(SWAPFILE) || fs.existsSync(SWAPFILE)) await removeSwapFile(SWAPFILE);
}, 90_000);

/** One instant query against Prometheus' HTTP API: the first result's value, or null when empty. */
async function query(expr: string): Promise<number | null> {
  const res = await fetch(`http://127.0.0.1:${PROM_PORT}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data?: { result: Array<{ value: [number, string] }> }; error?: string };
  if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error ?? res.status}`);
  const first = body.data!.result[0];
  return first ? Number(first.value[1]) : null;
}

/** Polls `expr` until `ok` holds (or times out, failing with the last value). */
async function until(expr: string, ok: (v: number | null) => boolean, timeoutMs: number): Promise<number | null> {
  const end = Date.now() + timeoutMs;
  let v: number | null = null;
  while (Date.now() < end) {
    v = await query(expr).catch(() => null);
    if (ok(v)) return v;
    await sleep(500);
  }
  throw new Error(`Prometheus query ${expr} stayed at ${v} for ${timeoutMs} ms`);
}

describe('live: Prometheus scrapes whytop serve', () => {
  it(
    titled('series exist after two scrapes; a CPU hog raises user time on its CPU; a swap storm raises swap-out', skip),
    { skip: skip !== null, timeout: 150_000 },
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whytop-prom-'));
      fs.writeFileSync(
        path.join(dir, 'prometheus.yml'),
        ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'scrape_configs:', '  - job_name: whytop', '    static_configs:', `      - targets: ['127.0.0.1:${WHYTOP_PORT}']`, ''].join('\n'),
      );
      start(process.execPath, [BIN, 'serve', '--listen', `127.0.0.1:${WHYTOP_PORT}`, '--interval', '1000'], { name: 'whytop serve' });
      start('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${PROM_PORT}`], { name: 'prometheus' });

      // Two scrapes in: the series exist.
      for (let tries = 0; !(await fetch(`http://127.0.0.1:${PROM_PORT}/-/ready`).catch(() => null))?.ok; tries++) {
        if (tries > 60) throw new Error('Prometheus did not become ready in 30 s');
        await sleep(500);
      }
      const scrapes = await until('whytop_scrapes_total', (v) => (v ?? 0) >= 2, 40_000);
      const present: Record<string, number | null> = {};
      for (const name of ['whytop_cpu_seconds_total', 'whytop_context_switches_total', 'whytop_softirqs_total', 'whytop_memory_bytes', 'whytop_threads', 'whytop_swap_out_pages_total', 'whytop_process_cpu_ratio', 'whytop_info']) {
        present[name] = await query(`count(${name})`);
        expect(present[name], `${name} series in Prometheus`).toBeGreaterThan(0);
      }
      expect(await query('count(whytop_process_cpu_ratio)'), 'per-process series are the top 20 only').toBeLessThanOrEqual(20);

      // A CPU hog on CPU 0: user time there goes to ~1 s per second.
      const idleUser = await query('rate(whytop_cpu_seconds_total{cpu="0",mode="user"}[5s])');
      const hog = start('stress-ng', ['--cpu', '1', '--taskset', '0', '-t', '40']);
      const busyUser = await until('rate(whytop_cpu_seconds_total{cpu="0",mode="user"}[5s])', (v) => (v ?? 0) > 0.8, 30_000);
      await hog.stop();

      // A swap storm: a toucher over its 256 MiB memory cgroup limit pushes pages out to swap.
      await makeSwapFile(SWAPFILE, 512);
      if (!fs.existsSync(CGROUP)) fs.mkdirSync(CGROUP);
      fs.writeFileSync(`${CGROUP}/memory.limit_in_bytes`, String(256 * MiB));
      const toucher = await compileC('toucher', TOUCHER_C);
      const storm = start('sh', ['-c', `echo $$ > ${CGROUP}/cgroup.procs && exec ${toucher} 384 10000 60`], { name: 'toucher in cgroup' });
      const swapOut = await until('rate(whytop_swap_out_pages_total[5s])', (v) => (v ?? 0) > 100, 40_000);
      await storm.stop();
      report('prometheus', { scrapes, present, idleUser, busyUser, swapOutPagesPerS: swapOut });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  );
});
