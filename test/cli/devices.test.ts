// `whytop dump` prints disks, interfaces and softnet, in JSON and as CSV sections (the real bin, spawned).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/whytop.js');
const FIXTURE = path.join(ROOT, 'test/fixtures/proc/threads');
/** The same proc tree, named proc, with a sys beside it that names dm-0. */
const HOST_PROC = path.join(ROOT, 'test/fixtures/host/proc');

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('whytop dump: disks, nets, softnet', () => {
  it('has them in every JSON frame of the fixture tree', () => {
    const r = run(['dump', '--count', '1', '--interval', '100', '--proc-root', FIXTURE]);
    expect(r.status, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout.trim());
    expect(f.disks.map((d: { name: string }) => d.name)).toEqual(['loop1', 'vda', 'dm-0', 'sr0']);
    expect(f.disks[0]).toMatchObject({ name: 'loop1', loop: true, reads_per_s: 0, await_ms: null, busy_pct: 0 });
    expect(f.disks.map((d: { loop: boolean }) => d.loop)).toEqual([true, false, false, false]);
    expect(f.nets.map((n: { name: string; loopback: boolean }) => [n.name, n.loopback])).toEqual([['lo', true], ['eth0', false]]);
    expect(f.softnet.map((s: { cpu: number }) => s.cpu)).toEqual([0, 1]);
  });

  it('names dm devices end to end when the proc root has a sys beside it', () => {
    const r = run(['dump', '--count', '1', '--interval', '100', '--proc-root', HOST_PROC, '--format', 'csv', '--section', 'disks']);
    expect(r.status, r.stderr).toBe(0);
    const names = r.stdout.trim().split('\n').slice(1).map((line) => line.split(',')[1]);
    expect(names).toEqual(['loop1', 'vda', 'vg0-root', 'sr0']);
  });

  it('prints them as CSV sections', () => {
    const header: Record<string, string> = {
      disks: 'time,name,loop,reads_per_s,writes_per_s,read_bytes_per_s,write_bytes_per_s,await_ms,queue_depth,busy_pct',
      nets: 'time,name,loopback,rx_packets_per_s,tx_packets_per_s,rx_bytes_per_s,tx_bytes_per_s,rx_errors_per_s,tx_errors_per_s,rx_drops_per_s,tx_drops_per_s',
      softnet: 'time,cpu,processed_per_s,dropped_per_s,squeezed_per_s',
    };
    const rows: Record<string, number> = { disks: 4, nets: 2, softnet: 2 };
    for (const section of Object.keys(header)) {
      const r = run(['dump', '--count', '2', '--interval', '100', '--proc-root', FIXTURE, '--format', 'csv', '--section', section]);
      expect(r.status, `${section}: ${r.stderr}`).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0], section).toBe(header[section]);
      expect(lines.length, section).toBe(1 + 2 * rows[section]);
    }
  });
});
