// Runs the real whytop in a tmux pane of its own, recording every byte it writes (pipe-pane), so a
// screenshot is the replay of exactly what a terminal received.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Quotes a word for sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Environment of tmux itself: a UTF-8 locale, so it reads and reports the pane's text as UTF-8. */
const TMUX_ENV: NodeJS.ProcessEnv = (() => {
  const { LC_ALL: _all, LC_CTYPE: _ctype, ...rest } = process.env;
  return { ...rest, LANG: 'C.UTF-8' };
})();

/** whytop in a tmux pane, with the raw output recorded to a file. */
export class TmuxApp {
  private readonly socket = `whytop-shots-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly bytesFile: string;

  /** Prepares a pane `cols`×`rows`; files go to `workDir` (the recording, the app's config home). */
  constructor(workDir: string, readonly cols: number, readonly rows: number) {
    this.bytesFile = path.join(workDir, 'tty.bytes');
  }

  /** Runs tmux on this app's own server. */
  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env: TMUX_ENV });
  }

  /**
   * Starts `argv` with `env` in the pane. The program waits on a tmux channel until the status line is
   * off (so it starts at full height) and the recording runs, so not one byte of its output is missed;
   * the pane stays after an exit, so its last words can be shown.
   */
  start(argv: string[], env: Record<string, string>): void {
    const vars = Object.entries(env).map(([k, v]) => `${k}=${shQuote(v)}`);
    const go = `tmux -L ${shQuote(this.socket)} wait-for go && exec env ${vars.join(' ')} ${argv.map(shQuote).join(' ')}`;
    this.tmux('new-session', '-d', '-s', 'main', '-x', String(this.cols), '-y', String(this.rows), go);
    this.tmux('set-option', '-g', 'status', 'off');
    this.tmux('set-option', '-w', '-g', 'remain-on-exit', 'on');
    this.tmux('pipe-pane', '-t', 'main', `cat >> ${shQuote(this.bytesFile)}`);
    this.tmux('wait-for', '-S', 'go');
  }

  /** Sends one key by its tmux name ('Enter', 'F1', '2', ...). */
  key(name: string): void {
    this.tmux('send-keys', '-t', 'main', name);
  }

  /** The pane's text as tmux shows it, one right-trimmed string per row. */
  paneText(): string[] {
    return this.tmux('capture-pane', '-p', '-t', 'main').replace(/\n$/, '').split('\n').map((l) => l.trimEnd());
  }

  /** Pid of the program in the pane (the shell execs it). */
  private pid(): number {
    return Number(this.tmux('display-message', '-p', '-t', 'main', '#{pane_pid}').trim());
  }

  /** Size of the recording so far. */
  private recorded(): number {
    return fs.existsSync(this.bytesFile) ? fs.statSync(this.bytesFile).size : 0;
  }

  /** Throws with the pane's text if the program is no longer running. */
  private checkAlive(): void {
    const dead = this.tmux('display-message', '-p', '-t', 'main', '#{pane_dead}').trim();
    if (dead === '1') throw new Error(`whytop exited; pane:\n${this.paneText().join('\n')}`);
  }

  /**
   * Waits for a quiet moment just after the program drew (its output grew, then stayed the same for
   * 150 ms), stops it with SIGSTOP so the screen holds still, and calls `use` with everything it wrote;
   * SIGCONT afterwards.
   */
  async frozen<T>(use: (bytes: Buffer) => Promise<T>, timeoutMs = 5000): Promise<T> {
    this.checkAlive();
    const end = Date.now() + timeoutMs;
    let size = this.recorded();
    let grew = false;
    let stableSince = Date.now();
    while (Date.now() < end) {
      await sleep(25);
      const now = this.recorded();
      if (now !== size) {
        grew = true;
        size = now;
        stableSince = Date.now();
      } else if (grew && Date.now() - stableSince >= 150) break;
    }
    const pid = this.pid();
    process.kill(pid, 'SIGSTOP');
    try {
      // Let tmux pass the last bytes on to the recording.
      let last = -1;
      while (last !== this.recorded()) {
        last = this.recorded();
        await sleep(150);
      }
      return await use(fs.readFileSync(this.bytesFile));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  }

  /** Ends the tmux server (and with it the program). */
  stop(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { env: TMUX_ENV });
  }
}
