// What `whytop serve` exposes, from two samples of a fixture tree: families and types, values from
// the raw snapshot, HELP from the metric catalog, bounded per-process series, hint labels, and the
// OpenMetrics format when asked for.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Hint } from '../../src/hints/types.js';
import { derive } from '../../src/model/derive.js';
import { metric } from '../../src/model/metrics.js';
import { Exposition, topProcesses } from '../../src/serve/exposition.js';
import { parseListen } from '../../src/serve/server.js';
import { Sampler } from '../../src/sources/sampler.js';

const FIXTURE = path.resolve(__dirname, '../fixtures/proc/threads');

function sampleTwice() {
  const sampler = new Sampler({ procRoot: FIXTURE, noNative: true });
  const a = sampler.sample();
  const b = sampler.sample();
  sampler.close();
  return { snapshot: b, frame: derive(a, b) };
}

/** The exposition lines of family `name` (its samples, without HELP/TYPE). */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

const HINTS: Hint[] = [
  { id: 'softirq-heavy', severity: 'warn', subject: { kind: 'cpu', id: 1 }, message: 'm', explain: 'e' },
  { id: 'demand-paging', severity: 'info', subject: { kind: 'process', id: 100 }, message: 'm', explain: 'e' },
  { id: 'blocked-io', severity: 'crit', subject: { kind: 'thread', id: 102, pid: 999 }, message: 'm', explain: 'e' },
];

describe('whytop serve exposition', () => {
  it('exports kernel counters from the raw snapshot, gauges for states and memory, HELP from the catalog', async () => {
    const { snapshot, frame } = sampleTwice();
    const e = new Exposition(2);
    expect(e.ready).toBe(false);
    e.update({ snapshot, frame, hints: HINTS });
    const { contentType, body } = await e.scrape('text/plain');
    expect(contentType).toMatch(/^text\/plain; version=0.0.4/);
    expect(body).toContain('# TYPE whytop_cpu_seconds_total counter');
    expect(body).toContain('# TYPE whytop_memory_bytes gauge');
    expect(body).toContain(`# HELP whytop_context_switches_total ${metric('system.ctxsw_per_s')!.meaning}`);
    // Counters are the kernel's own since-boot values (ticks / CLK_TCK for CPU time).
    const c0 = snapshot.stat!.cpus[0];
    expect(samples(body, 'whytop_cpu_seconds_total')).toContain(`whytop_cpu_seconds_total{cpu="${c0.cpu}",mode="user"} ${c0.times.user / snapshot.host.clkTck}`);
    expect(samples(body, 'whytop_context_switches_total')).toEqual([`whytop_context_switches_total ${snapshot.stat!.ctxt}`]);
    expect(samples(body, 'whytop_threads').length).toBe(Object.keys(frame.threads_by_state).length);
    expect(samples(body, 'whytop_memory_bytes')).toContain(`whytop_memory_bytes{kind="anon"} ${frame.memory.anon_bytes}`);
    // The /proc tier has no probe counters: those families have no samples (not zeros).
    expect(samples(body, 'whytop_cpu_context_switches_total')).toEqual([]);
    expect(samples(body, 'whytop_softirq_seconds_total')).toEqual([]);
    expect(body).not.toMatch(/ NaN$/m);
  });

  it('has per-process series for the top K processes by CPU only, and hint labels without unbounded ids', async () => {
    const { snapshot, frame } = sampleTwice();
    expect(frame.processes.length).toBeGreaterThan(2);
    const e = new Exposition(2);
    e.update({ snapshot, frame, hints: HINTS });
    const { body } = await e.scrape(undefined);
    const top = topProcesses(frame, 2).map((p) => String(p.pid));
    const pids = samples(body, 'whytop_process_resident_bytes').map((l) => /pid="(\d+)"/.exec(l)![1]);
    expect(pids.sort()).toEqual([...top].sort());
    const hints = samples(body, 'whytop_hint_active');
    expect(hints).toContain('whytop_hint_active{id="softirq-heavy",severity="warn",kind="cpu",cpu="1",pid=""} 1');
    // A pid label only for a process among the top K; a thread's tid never.
    const pidOf100 = top.includes('100') ? '100' : '';
    expect(hints).toContain(`whytop_hint_active{id="demand-paging",severity="info",kind="process",cpu="",pid="${pidOf100}"} 1`);
    expect(hints).toContain('whytop_hint_active{id="blocked-io",severity="crit",kind="thread",cpu="",pid=""} 1');
  });

  it('speaks OpenMetrics when the scraper asks, and counts its scrapes', async () => {
    const { snapshot, frame } = sampleTwice();
    const e = new Exposition(20);
    e.update({ snapshot, frame, hints: [] });
    await e.scrape(undefined);
    const { contentType, body } = await e.scrape('application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5');
    expect(contentType).toMatch(/^application\/openmetrics-text/);
    expect(body.trimEnd().endsWith('# EOF')).toBe(true);
    expect(body).toContain('whytop_scrapes_total 2');
  });

  it('reads listen addresses, refusing what is not ADDR:PORT', () => {
    expect(parseListen('127.0.0.1:9947')).toEqual({ host: '127.0.0.1', port: 9947 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseListen('0.0.0.0:9947')).toEqual({ host: '0.0.0.0', port: 9947 });
    for (const bad of ['9947', 'localhost', 'a:b', 'h:0', 'h:70000', '::1:80']) expect(() => parseListen(bad), bad).toThrow(/--listen/);
  });
});
