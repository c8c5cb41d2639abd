// `whytop serve` as a user starts it: the real bin on a fixture tree, answering / and /metrics on
// loopback, 503 until its first sample, 404 elsewhere, and ending cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/whytop.js');
const FIXTURE = path.join(ROOT, 'test/fixtures/proc/threads');
const PORT = 19948;

async function get(p: string): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(`http://127.0.0.1:${PORT}${p}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

describe('whytop serve', () => {
  it('serves / and /metrics on loopback, 503 before the first sample, and exits 0 on SIGTERM', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--proc-root', FIXTURE, '--interval', '1500', '--listen', `127.0.0.1:${PORT}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await exercise(() => stderr);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/** Waits for the server to listen, then checks each answer. */
async function exercise(stderr: () => string): Promise<void> {
  for (let i = 0; !stderr().includes('serving'); i++) {
    if (i > 100) throw new Error(`serve did not start: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(stderr()).toContain(`serving http://127.0.0.1:${PORT}/metrics`);
  const early = await get('/metrics');
  expect(early.status).toBe(503);
  const index = await get('/');
  expect(index.status).toBe(200);
  expect(index.body).toMatch(/^whytop \S+: .*\n\nmetrics: \/metrics/);
  expect((await get('/nope')).status).toBe(404);
  await new Promise((r) => setTimeout(r, 2000));
  const m = await get('/metrics');
  expect(m.status).toBe(200);
  expect(m.type).toMatch(/text\/plain/);
  expect(m.body).toMatch(/^whytop_threads\{state="S"\} \d+$/m);
  expect(m.body).toMatch(/^whytop_info\{version="[^"]+",backend="(native|ts)",kernel_tier="proc"\} 1$/m);
}
