// Driving the real TUI in tmux: start it in a pane, type keys, read the screen.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** True when tmux is installed (the TUI tests skip, saying so, without it). */
export const HAVE_TMUX = spawnSync('tmux', ['-V']).status === 0;

export const ROOT = path.resolve(__dirname, '../..');
export const BIN = path.join(ROOT, 'bin/whytop.js');

/** A tmux server of its own with one pane. */
export class TmuxPane {
  readonly socket = `whytop-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly configHome = fs.mkdtempSync(path.join(os.tmpdir(), 'whytop-ui-'));

  /** Starts `command` (a shell command line) in a new pane of the given size. */
  start(command: string, width = 160, height = 48, env: Record<string, string> = {}): void {
    const vars = { XDG_CONFIG_HOME: this.configHome, LANG: 'C.UTF-8', ...env };
    const prefix = Object.entries(vars).map(([k, v]) => `${k}='${v}'`).join(' ');
    this.tmux('new-session', '-d', '-s', 'main', '-x', String(width), '-y', String(height), `env ${prefix} ${command}; echo WHYTOP-EXITED $?; sleep 600`);
    this.tmux('set-option', '-g', 'status', 'off');
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Sends keys (tmux key names, e.g. 'Enter', 'F5', 'C-c', or literal text with `literal`). */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...keys);
  }

  /** Types text literally. */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', text);
  }

  /** The screen's text, one string per line. */
  screen(): string[] {
    return this.tmux('capture-pane', '-p', '-t', 'main').split('\n');
  }

  /** Waits until the screen satisfies `ok` (returns the screen), or throws with the last screen. */
  async waitFor(ok: (lines: string[]) => boolean, what: string, timeoutMs = 5000): Promise<string[]> {
    const end = Date.now() + timeoutMs;
    let lines = this.screen();
    while (Date.now() < end) {
      lines = this.screen();
      if (ok(lines)) return lines;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}; screen was:\n${lines.join('\n')}`);
  }

  /** Resizes the window. */
  resize(width: number, height: number): void {
    this.tmux('resize-window', '-t', 'main', '-x', String(width), '-y', String(height));
  }

  /** Pid of the process running in the pane (the shell or program started). */
  panePid(): number {
    return Number(this.tmux('display-message', '-p', '-t', 'main', '#{pane_pid}').trim());
  }

  stop(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
    fs.rmSync(this.configHome, { recursive: true, force: true });
  }
}

/** Sleeps. */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
