// Benchmark of what whytop's kernel probes cost everyone else: each workload runs with no probes,
// with the default probes attached, and with syscall counting on too (--syscalls) — attached by a
// child that attaches them exactly as whytop does, then only waits — in rotating rounds; the table
// gives the medians and the slowdowns.
//
//   npm run bench:probes -- [--rounds 7] [--seconds 3] [--workloads syscall,switch,loopback]
//
// Workloads (all pinned to CPU 0, so each runs on one CPU whatever else the machine does):
//   syscall loop   bench/sysloop.c: getppid() as fast as it goes (calls/s) — the syscall path
//   switch         stress-ng --switch 1 --taskset 0: a context-switch ping-pong on one CPU
//                  (bogo ops/s) — the worst case for probes on sched_switch and sched_wakeup
//   loopback       iperf3 over 127.0.0.1 (bits/s received) — NET_RX/NET_TX softirqs
// Needs root (the probes), stress-ng and iperf3.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './build.js';
import { Flags, failWith } from './cli.js';
import { describeMachine, machineFacts } from './machine.js';
import { fmtRatio, table } from './report.js';
import { median } from './stats.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const fail = failWith('bench:probes');

interface Workload {
  name: string;
  unit: string;
  /** Runs once for `seconds`; returns its rate (higher is better). */
  run(seconds: number): number;
}

function output(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').pop()}`);
  return `${r.stdout}\n${r.stderr}`;
}

function workloads(sysloop: string): Workload[] {
  return [
    {
      name: 'syscall loop',
      unit: 'calls/s',
      run: (s) => Number(output('taskset', ['-c', '0', sysloop, String(s * 1000)]).trim().split('\n')[0]),
    },
    {
      name: 'switch ping-pong',
      unit: 'bogo ops/s',
      run: (s) => {
        const text = output('stress-ng', ['--switch', '1', '--taskset', '0', '-t', String(s), '--metrics-brief']);
        // stress-ng: metrc: [pid] switch  <ops> <real s> <usr s> <sys s> <ops/s real> <ops/s usr+sys>
        const line = text.split('\n').find((l) => /\bswitch\s+\d/.test(l));
        const fields = line?.trim().split(/\s+/) ?? [];
        const at = fields.indexOf('switch');
        const rate = Number(fields[at + 5]);
        if (!Number.isFinite(rate)) fail(`cannot read stress-ng's rate from:\n${text}`);
        return rate;
      },
    },
    {
      name: 'loopback iperf3',
      unit: 'bits/s',
      run: (s) => {
        const port = '5299';
        const server = spawn('iperf3', ['-s', '-1', '-p', port], { stdio: 'ignore' });
        spawnSync('sleep', ['0.3']);
        const json = JSON.parse(output('iperf3', ['-c', '127.0.0.1', '-p', port, '-t', String(s), '-J']).trim().split('\n\n')[0]) as { end: { sum_received: { bits_per_second: number } } };
        server.kill();
        return json.end.sum_received.bits_per_second;
      },
    },
  ];
}

/** The probe holder: attaches the kernel probes as whytop does (`syscalls`: and the syscall probe) and waits for stdin to close. */
async function holdProbes(syscalls: boolean): Promise<void> {
  const { nativeBpfCalls } = await import('../src/native/index.js');
  const { readKernelBtf } = await import('../src/sources/bpfTaskReader.js');
  const { KernelProbes } = await import('../src/sources/kernelProbes.js');
  const calls = nativeBpfCalls();
  const btf = readKernelBtf();
  if (calls.calls === null || typeof btf === 'string') {
    console.log(`no: ${calls.reason ?? btf}`);
    return;
  }
  const probes = KernelProbes.attach(calls.calls, btf);
  probes.setSyscalls(syscalls);
  console.log('ready');
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
  probes.close();
}

/** Starts the probe holder; resolves once its probes are attached. */
async function startHolder(syscalls: boolean): Promise<{ stop(): Promise<void> }> {
  const args = [...process.execArgv, THIS_FILE, '--hold-probes', ...(syscalls ? ['--syscalls'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
  if (first !== 'ready') fail(`cannot attach the probes: ${first}`);
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--hold-probes')) return holdProbes(argv.includes('--syscalls'));
  let rounds = 7;
  let seconds = 3;
  const names = ['syscall', 'switch', 'loopback'] as const;
  let only: readonly string[] = names;
  const flags = new Flags(fail);
  flags.each(argv, (flag, value) => {
    if (flag === '--rounds') rounds = flags.number(flag, value(), 1);
    else if (flag === '--seconds') seconds = flags.number(flag, value(), 1);
    else if (flag === '--workloads') only = flags.list(flag, value(), names);
    else fail(`unknown option ${flag}`);
  });
  if (process.getuid?.() !== 0) fail('needs root (the kernel probes)');
  const { sysloop } = ensureBuilt();
  console.log(`Kernel probe overhead: ${rounds} rounds of each workload with no probes, the default probes, and --syscalls too; rotating order; medians.`);
  console.log(`Machine: ${describeMachine(machineFacts())}`);
  const slowdown = (base: number, v: number): string => `${(100 * (1 - v / base)).toFixed(1)}% (${fmtRatio(v / base)})`;
  const rows: string[][] = [['workload', 'unit', 'no probes', 'probes', 'slowdown', '+ --syscalls', 'slowdown']];
  const conditions = ['off', 'probes', 'syscalls'] as const;
  for (const w of workloads(sysloop).filter((_, i) => only.includes(names[i]))) {
    const results: Record<(typeof conditions)[number], number[]> = { off: [], probes: [], syscalls: [] };
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < conditions.length; k++) {
        const which = conditions[(k + r) % conditions.length];
        if (which === 'off') {
          results.off.push(w.run(seconds));
          continue;
        }
        const holder = await startHolder(which === 'syscalls');
        try {
          results[which].push(w.run(seconds));
        } finally {
          await holder.stop();
        }
      }
    }
    const [a, b, c] = conditions.map((k) => median(results[k]) ?? NaN);
    rows.push([w.name, w.unit, a.toPrecision(4), b.toPrecision(4), slowdown(a, b), c.toPrecision(4), slowdown(a, c)]);
    console.log(`  ${w.name}: ${conditions.map((k) => `${k} ${results[k].map((v) => v.toPrecision(3)).join(' ')}`).join(' | ')}`);
  }
  console.log(table(rows));
}

await main(process.argv.slice(2));
