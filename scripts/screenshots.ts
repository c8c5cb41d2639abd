// `npm run screenshots`: runs the real whytop (bin/whytop.js, built from src) in a 160×48 tmux pane
// under a few workloads, replays the bytes it wrote into a headless xterm and writes PNGs to
// screenshots/. Each scene starts its workload itself and always stops it; a scene whose tool or
// privilege is missing is skipped with the reason, and the others still run. PNG names as arguments
// (`npm run screenshots -- help.png`) run only the scenes that write them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rendererMissing, replay, screenText, toSvg, writePng } from './screenshot/render.js';
import { sleep, TmuxApp } from './screenshot/tmuxApp.js';
import { Cleanup, compileVforkHolder, missing, startGroup, startSwapStorm, waitForListener, waitForQuiet } from './screenshot/workloads.js';
import type { Needs } from './screenshot/workloads.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/whytop.js');
const OUT_DIR = path.join(ROOT, 'screenshots');
const COLS = 160;
const ROWS = 48;
/** CPU use (%) of the whole machine under which a scene starts at once (else it waits up to a minute). */
const QUIET_BUSY_PCT = 20;
/** Time after start for the first rates to fill in. */
const WARMUP_MS = 3000;
/** How long a key may take to show on screen (a busy machine makes whytop slow). */
const KEY_TIMEOUT_MS = 10000;
/** Pause after a key that shows nothing (Home), and after a key's effect showed, for the redraw. */
const SETTLE_MS = 500;

/** What a scene can do while whytop runs. */
interface Driver {
  /**
   * Types one key (a tmux key name: 'Enter', 'F1', '2', ...) and waits until the screen text
   * satisfies `until` (throwing after KEY_TIMEOUT_MS), so no key is sent before the last one took effect.
   */
  press(key: string, until?: (screen: string) => boolean): Promise<void>;
  /**
   * Writes the current screen to screenshots/`file`; warns (the shot is still written) when the
   * screen text does not match `workload`, the sign that the scene's workload shows.
   */
  shoot(file: string, workload?: RegExp): Promise<void>;
}

/** A condition for `press`: the screen shows `re`. */
const shows = (re: RegExp) => (screen: string): boolean => re.test(screen);
/** A condition for `press`: the screen no longer shows `re`. */
const hides = (re: RegExp) => (screen: string): boolean => !re.test(screen);

/** One run of whytop under one workload, giving one or more screenshots. */
interface Scene {
  /** The PNGs it writes, in order. */
  files: string[];
  needs: Needs;
  /** Starts the workload (registering how to stop it) before whytop starts; `tmp` is a scratch dir. */
  workload?: (cleanup: Cleanup, tmp: string) => Promise<void>;
  /** Milliseconds to wait after whytop starts before driving it. */
  warmupMs?: number;
  drive: (d: Driver) => Promise<void>;
}

const SCENES: Scene[] = [
  {
    files: ['threads-idle.png', 'help.png'],
    needs: {},
    drive: async (d) => {
      await d.shoot('threads-idle.png');
      await d.press('F1', shows(/whytop help/));
      await d.shoot('help.png');
    },
  },
  {
    files: ['threads-cpu-hog.png', 'detail.png', 'tree.png'],
    needs: { tools: ['stress-ng'] },
    workload: (c) => startGroup(c, ['stress-ng', '--cpu', '2', '--cpu-method', 'int64', '-t', '60']),
    drive: async (d) => {
      // The hogs are the first rows below the column header.
      await d.shoot('threads-cpu-hog.png', /COMMAND\n.*stress-ng-cpu/);
      // The selection follows a thread, not the first row: go to the top row first.
      await d.press('Home');
      await d.press('Enter', shows(/Esc: back/));
      await d.shoot('detail.png', /Thread \d+ "stress-ng-cpu"/);
      // Wait for Escape to act: ESC read together with F5's sequence means Meta-F5.
      await d.press('Escape', hides(/Esc: back/));
      await d.press('F5', shows(/│ tree │/));
      await d.shoot('tree.png');
    },
  },
  {
    files: ['states-d-state.png'],
    needs: { tools: ['cc'] },
    workload: (c, tmp) => startGroup(c, [compileVforkHolder(tmp)]),
    drive: async (d) => {
      await d.press('2', shows(/TID +PID +FOR/));
      await d.shoot('states-d-state.png', /uninterruptible.*\n(.*\n)?.*vfork-holder/);
    },
  },
  {
    files: ['memory-swap.png'],
    needs: {
      root: true,
      tools: ['stress-ng', 'fallocate', 'mkswap', 'swapon', 'swapoff'],
      paths: ['/sys/fs/cgroup/memory/memory.limit_in_bytes'],
    },
    workload: (c) => startSwapStorm(c),
    warmupMs: 5000,
    drive: async (d) => {
      await d.press('5', shows(/Memory: where RAM goes/));
      await d.shoot('memory-swap.png', /swap used [1-9]/);
    },
  },
  {
    files: ['softirq-net.png'],
    needs: { tools: ['iperf3'] },
    workload: async (c) => {
      await startGroup(c, ['iperf3', '-s', '-1', '-p', '5299'], 0);
      await waitForListener(5299);
      await startGroup(c, ['iperf3', '-c', '127.0.0.1', '-p', '5299', '-t', '20']);
    },
    drive: async (d) => {
      await d.press('4', shows(/Softirqs per second/));
      await d.shoot('softirq-net.png', /NET_RX +[\d.]+K/);
    },
  },
  {
    files: ['io-disk.png', 'why.png'],
    needs: { tools: ['dd', 'iperf3'] },
    workload: async (c, tmp) => {
      // Writes that reach the disk (O_DIRECT, synced) and some loopback traffic for the interfaces.
      await startGroup(c, ['sh', '-c', `while :; do dd if=/dev/zero of=${tmp}/io.bin bs=1M count=256 oflag=direct conv=fsync status=none; done`]);
      await startGroup(c, ['iperf3', '-s', '-1', '-p', '5298'], 0);
      await waitForListener(5298);
      await startGroup(c, ['iperf3', '-c', '127.0.0.1', '-p', '5298', '-t', '30', '-b', '200M']);
    },
    drive: async (d) => {
      await d.press('6', shows(/I\/O: disks and network/));
      await d.shoot('io-disk.png', /WR B\/s/);
      await d.press('w', shows(/Why: active hints/));
      await d.shoot('why.png');
    },
  },
  {
    files: ['modes.png'],
    needs: { tools: ['stress-ng'] },
    workload: async (c) => {
      await startGroup(c, ['stress-ng', '--switch', '1', '-t', '60']);
      await startGroup(c, ['stress-ng', '--get', '1', '-t', '60']);
    },
    drive: async (d) => {
      await d.press('3', shows(/Mode switches:/));
      await d.shoot('modes.png', /^(?=[\s\S]*stress-ng-switc)(?=[\s\S]*stress-ng-get)/);
    },
  },
];

/** Shots whose workload did not show (a busy machine), to name at the end. */
const unconvincing: string[] = [];

/** The cleanup of the scene that is running, for a Ctrl-C or kill of this script. */
let running: Cleanup | null = null;

/** Newest modification time (ms) of the files ending in `ext` under `dir`; 0 when there are none. */
function newestMtime(dir: string, ext: string): number {
  if (!fs.existsSync(dir)) return 0;
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith(ext))
    .reduce((newest, f) => Math.max(newest, fs.statSync(path.join(dir, f)).mtimeMs), 0);
}

/** Checks that the replayed screen reads the same as tmux's own, so the PNG shows what a terminal would. */
function checkReplay(replayed: string[], pane: string[]): void {
  for (let row = 0; row < Math.max(replayed.length, pane.length); row++) {
    const a = replayed[row] ?? '';
    const b = pane[row] ?? '';
    if (a !== b) throw new Error(`the replay differs from the tmux pane at row ${row + 1}:\n  replay: ${a}\n  tmux:   ${b}`);
  }
}

/** Runs one scene: workload, whytop in tmux, the keys and shots; stops everything afterwards. */
async function runScene(scene: Scene): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'whytop-shots-'));
  const cleanup = new Cleanup();
  running = cleanup;
  cleanup.add('remove the scratch dir', () => fs.rmSync(tmp, { recursive: true, force: true }));
  try {
    if (scene.workload) {
      await scene.workload(cleanup, tmp);
      await sleep(1000);
    }
    const configHome = path.join(tmp, 'config');
    fs.mkdirSync(configHome);
    const app = new TmuxApp(tmp, COLS, ROWS);
    cleanup.add('stop tmux', () => app.stop());
    app.start([process.execPath, BIN], { LANG: 'C.UTF-8', TERM: 'xterm-256color', XDG_CONFIG_HOME: configHome });
    await sleep(scene.warmupMs ?? WARMUP_MS);
    await scene.drive({
      press: async (key, until) => {
        app.key(key);
        const end = Date.now() + KEY_TIMEOUT_MS;
        while (until && !until(app.paneText().join('\n'))) {
          if (Date.now() > end) throw new Error(`the screen did not follow the key ${key}:\n${app.paneText().join('\n')}`);
          await sleep(100);
        }
        await sleep(SETTLE_MS);
      },
      shoot: (file, workload) =>
        app.frozen(async (bytes) => {
          const term = await replay(bytes, COLS, ROWS);
          const text = screenText(term);
          checkReplay(text, app.paneText());
          writePng(toSvg(term), path.join(tmp, `${file}.svg`), path.join(OUT_DIR, file));
          term.dispose();
          console.log(`  wrote screenshots/${file}`);
          if (workload && !workload.test(text.join('\n'))) {
            unconvincing.push(file);
            console.warn(`  WARNING: ${file} does not show its workload (no match for ${workload}): is the machine busy?`);
          }
        }),
    });
  } finally {
    await cleanup.run();
    running = null;
  }
}

/**
 * Runs every scene that can run here, or only those writing one of the PNGs named in `wanted`;
 * resolves to the exit status (1 if any scene failed, 2 for an unknown name).
 */
async function main(wanted: string[]): Promise<number> {
  const known = SCENES.flatMap((s) => s.files);
  const unknown = wanted.filter((w) => !known.includes(w));
  if (unknown.length > 0) {
    console.error(`screenshots: no scene writes ${unknown.join(', ')}; known: ${known.join(', ')}`);
    return 2;
  }
  const noRenderer = rendererMissing();
  if (noRenderer) {
    console.error(`screenshots: ${noRenderer}`);
    return 1;
  }
  const noTmux = missing({ tools: ['tmux'] });
  if (noTmux) {
    console.error(`screenshots: ${noTmux} (Debian/Ubuntu: apt-get install tmux)`);
    return 1;
  }
  const src = newestMtime(path.join(ROOT, 'src'), '.ts');
  const dist = newestMtime(path.join(ROOT, 'dist'), '.js');
  if (dist === 0) {
    console.error('screenshots: dist/ is missing: build first with `npx tsc -p tsconfig.build.json` (npm install does it)');
    return 1;
  }
  if (src > dist) console.warn('screenshots: src/ changed since the last build: the shots show the old build (npx tsc -p tsconfig.build.json)');
  fs.mkdirSync(OUT_DIR, { recursive: true });
  let failed = 0;
  for (const scene of SCENES.filter((s) => wanted.length === 0 || s.files.some((f) => wanted.includes(f)))) {
    const names = scene.files.join(', ');
    const skip = missing(scene.needs);
    if (skip) {
      console.log(`skipping ${names}: ${skip}`);
      continue;
    }
    console.log(`${names}:`);
    const busy = await waitForQuiet(QUIET_BUSY_PCT);
    if (busy >= QUIET_BUSY_PCT) console.warn(`  the CPUs stay ${busy}% busy: other programs will show in these shots`);
    try {
      await runScene(scene);
    } catch (err) {
      failed++;
      console.error(`  FAILED: ${err instanceof Error ? err.message : err}`);
    }
  }
  if (unconvincing.length > 0) {
    console.warn(`${unconvincing.length} shot(s) did not show their workload; on a quieter machine: npm run screenshots -- ${unconvincing.join(' ')}`);
  }
  return failed === 0 ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`screenshots: ${signal}, cleaning up`);
    void (running?.run() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

process.exitCode = await main(process.argv.slice(2));
