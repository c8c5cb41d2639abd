// `whytop serve`: samples on its own schedule and answers Prometheus scrapes with the latest
// complete sample (a scrape never waits for, or causes, a sample). Loopback only unless another
// address is asked for.
import * as http from 'node:http';
import { evaluateHints, initialHintState } from '../hints/engine.js';
import { derive } from '../model/derive.js';
import type { Frame } from '../model/frame.js';
import type { Snapshot } from '../model/snapshot.js';
import { Sampler } from '../sources/sampler.js';
import type { SamplerOptions } from '../sources/sampler.js';
import { WHYTOP_VERSION } from '../store/format.js';
import { Exposition } from './exposition.js';

/** Where to listen: a host (IPv4, IPv6 or name) and a TCP port. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** The default listen address: loopback only. */
export const DEFAULT_LISTEN: ListenAddress = { host: '127.0.0.1', port: 9947 };

/** Parses `ADDR:PORT` (`[::1]:9947` for IPv6); throws with a one-line reason. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`--listen wants ADDR:PORT (e.g. 127.0.0.1:9947 or [::1]:9947), got '${text}'`);
  return { host: m[1] ?? m[2], port };
}

/** What `whytop serve` is asked to do. */
export interface ServeOptions extends SamplerOptions {
  listen: ListenAddress;
  intervalMs: number;
  topK: number;
}

/** The plain-text page at `/`. */
function indexPage(opts: ServeOptions): string {
  return `whytop ${WHYTOP_VERSION}: why this Linux machine is slow, for Prometheus\n\nmetrics: /metrics (OpenMetrics or Prometheus text; sampled every ${opts.intervalMs / 1000} s; top ${opts.topK} processes by CPU)\n`;
}

/** Runs the server until SIGINT or SIGTERM; resolves to the exit status. */
export function serve(opts: ServeOptions, log: (line: string) => void): Promise<number> {
  const sampler = new Sampler(opts);
  const exposition = new Exposition(opts.topK);
  let prev: Snapshot = sampler.sample();
  let frame: Frame | null = null;
  let hintState = initialHintState();
  let timer: NodeJS.Timeout | undefined;
  const start = performance.now();
  let n = 0;
  const tick = (): void => {
    const cur = sampler.sample();
    frame = derive(prev, cur, frame);
    prev = cur;
    const evaluated = evaluateHints(hintState, frame);
    hintState = evaluated.state;
    exposition.update({ snapshot: cur, frame, hints: evaluated.hints });
    n++;
    timer = setTimeout(tick, Math.max(0, start + (n + 1) * opts.intervalMs - performance.now()));
  };
  timer = setTimeout(tick, opts.intervalMs);

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('only GET\n');
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(indexPage(opts));
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    if (!exposition.ready) {
      res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': String(Math.ceil(opts.intervalMs / 1000)) }).end('no sample yet: the first comes after one interval\n');
      return;
    }
    exposition.scrape(req.headers.accept).then(
      ({ contentType, body }) => res.writeHead(200, { 'Content-Type': contentType }).end(req.method === 'HEAD' ? undefined : body),
      (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`cannot render metrics: ${(err as Error).message}\n`),
    );
  });

  return new Promise((resolve) => {
    const finish = (code: number): void => {
      clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close();
      sampler.close();
      resolve(code);
    };
    const stop = (): void => finish(0);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    server.once('error', (err: NodeJS.ErrnoException) => {
      log(`whytop: cannot listen on ${opts.listen.host}:${opts.listen.port}: ${err.code ?? err.message}`);
      finish(1);
    });
    server.listen(opts.listen.port, opts.listen.host, () => {
      const where = opts.listen.host.includes(':') ? `[${opts.listen.host}]` : opts.listen.host;
      log(`whytop: serving http://${where}:${opts.listen.port}/metrics (sampling every ${opts.intervalMs / 1000} s, ${sampler.backend} reader)`);
    });
  });
}
