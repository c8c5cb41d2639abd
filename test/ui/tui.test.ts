// The real TUI, driven in tmux like a person would: keys sort and filter the rows actually shown,
// the selection survives re-sorting, sizes from tiny to wide, suspend and resume, the terminal
// restored after SIGTERM, escaped names, batch mode when piped.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { columnWidths } from '../../src/ui/panels/table.js';
import { fitColumns } from '../../src/ui/columns.js';
import { initialState } from '../../src/ui/state.js';
import { BIN, HAVE_TMUX, pause, TmuxPane } from './tmux.js';

const WHYTOP = `'${process.execPath}' '${BIN}'`;

/**
 * The list on screen: header cells and rows cut into the same cells, using the layout whytop itself
 * computes for that width and list mode (default hidden columns): blank cells stay blank.
 */
function parseList(lines: string[]): { header: string[]; rows: Array<Record<string, string>> } {
  const at = lines.findIndex((l) => /\bCPU%/.test(l) && /COMMAND/.test(l));
  if (at < 0) return { header: [], rows: [] };
  const headerLine = lines[at];
  // The status bar always reaches the right edge: its length is the terminal's width.
  const width = Math.max(...lines.map((l) => l.length));
  const mode = /\bTID\b/.test(headerLine) ? 'threads' : /[├└]─/.test(lines.join('\n')) ? 'tree' : 'processes';
  // Columns the kernel tier cannot fill are left out by whytop (columns.ts unavailableColumns): the
  // ones whose header is not on screen are treated as hidden (dropped for width, it is the same).
  const onScreen = new Set(headerLine.split(/\s+/).map((h) => h.replace(/[▼▲]$/, '')));
  const absent = Object.entries({ dpct: 'D%', spct: 'S%', sysc: 'SYSC/s' }).filter(([, h]) => !onScreen.has(h)).map(([id]) => id);
  const columns = fitColumns(mode, [...initialState(1000).hiddenColumns, ...absent], width);
  const widths = columnWidths(columns, width);
  const spans: Array<[number, number]> = [];
  let x = 0;
  for (const w of widths) {
    spans.push([x, x + w]);
    x += w + 1;
  }
  const cut = (line: string): string[] => spans.map(([a, b], i) => (i === spans.length - 1 ? line.slice(a) : line.slice(a, b)).trim());
  const header = cut(headerLine).map((h) => h.replace(/[▼▲]$/, ''));
  const rows: Array<Record<string, string>> = [];
  for (const line of lines.slice(at + 1)) {
    if (/^(LIVE|PAUSED|REPLAY)\b/.test(line.trim()) || line.trim() === '') break;
    const cells = cut(line);
    const row: Record<string, string> = {};
    header.forEach((h, i) => (row[h] = cells[i]));
    rows.push(row);
  }
  return { header, rows };
}

function num(cell: string | undefined): number {
  return cell === undefined || cell === '-' ? -1 : Number(cell);
}

describe.skipIf(!HAVE_TMUX)('the live TUI in a terminal (tmux)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whytop-tui-'));
  const evilName = 'evil\x1b[31mX';
  const sleepers: ChildProcess[] = [];
  let pane: TmuxPane;

  beforeAll(() => {
    // Distinctive processes to filter and search for, one with an escape sequence in its name.
    fs.copyFileSync('/bin/sleep', path.join(dir, 'whytopzz'));
    fs.copyFileSync('/bin/sleep', path.join(dir, evilName));
    for (const name of ['whytopzz', 'whytopzz', 'whytopzz', evilName]) sleepers.push(spawn(path.join(dir, name), ['600'], { stdio: 'ignore' }));
  });
  afterAll(() => {
    for (const s of sleepers) s.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => pane?.stop());

  const start = async (args = '', width = 160, height = 48, env: Record<string, string> = {}): Promise<string[]> => {
    pane = new TmuxPane();
    pane.start(`${WHYTOP} ${args}`, width, height, env);
    return pane.waitFor((l) => parseList(l).rows.length > 3 && l.some((x) => /^\s*\d+\[/.test(x)), 'the first frame');
  };

  it('starts to a useful first frame in under a second, with header, list and status bar', async () => {
    const t0 = Date.now();
    const lines = await start();
    expect(Date.now() - t0).toBeLessThan(2500); // tmux and node start-up included
    expect(lines.some((l) => /^\s+0\[/.test(l))).toBe(true);
    expect(lines.some((l) => /Mem\[/.test(l))).toBe(true);
    expect(lines.some((l) => /Threads \d+:/.test(l))).toBe(true);
    expect(lines.join('\n')).toMatch(/LIVE .*every 1s .*(bpf|native|ts) reader/);
    const list = parseList(lines);
    expect(list.header.slice(0, 6)).toEqual(['TID', 'PID', 'USER', 'NI', '!', 'S']);
  });

  it('sorts by the column the keys choose, on the rows shown', async () => {
    // A capture can land while the screen is being redrawn: wait for a whole screen in the new order.
    const sortedBy = (lines: string[], column: string, descending: boolean): boolean => {
      const values = parseList(lines).rows.map((r) => num(r[column])).filter((v) => v >= 0);
      return values.length > 5 && values.every((v, i) => i === 0 || (descending ? v <= values[i - 1] : v >= values[i - 1]));
    };
    await start();
    pane.keys('M');
    await pane.waitFor((l) => l.some((x) => /MEM%▼/.test(x)) && sortedBy(l, 'MEM%', true), 'rows sorted by MEM% descending');
    pane.keys('I');
    await pane.waitFor((l) => l.some((x) => /MEM%▲/.test(x)) && sortedBy(l, 'MEM%', false), 'rows sorted by MEM% ascending');
    pane.keys('<');
    await pane.waitFor((l) => l.some((x) => /RSS▲/.test(x)), 'previous column');
    pane.keys('P');
    await pane.waitFor((l) => l.some((x) => /CPU%▼/.test(x)) && sortedBy(l, 'CPU%', true), 'rows sorted by CPU% descending');
  });

  it('filters rows by regex, by state and by user; Esc cancels a prompt; empty input clears', async () => {
    await start();
    pane.keys('\\');
    pane.type('whytop[z]+');
    pane.keys('Enter');
    let lines = await pane.waitFor((l) => parseList(l).rows.length === 3, 'three filtered rows');
    expect(parseList(lines).rows.every((r) => r.COMMAND === 'whytopzz')).toBe(true);
    expect(lines.join('\n')).toMatch(/filter \/whytop\[z\]\+\//);
    pane.keys('\\', 'C-u', 'Enter');
    await pane.waitFor((l) => parseList(l).rows.length > 5, 'filter cleared');
    pane.keys('S');
    pane.type('I');
    pane.keys('Enter');
    lines = await pane.waitFor((l) => l.join('\n').includes('state I'), 'state filter');
    const states = parseList(lines).rows.map((r) => r.S);
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states)).toEqual(new Set(['I']));
    pane.keys('S');
    pane.type('zzz');
    pane.keys('Escape');
    lines = await pane.waitFor((l) => !l.join('\n').includes('States (e.g.'), 'prompt cancelled');
    expect(lines.join('\n')).toContain('state I');
    pane.keys('S', 'BSpace', 'Enter');
    await pane.waitFor((l) => !l.join('\n').includes('state I'), 'state filter cleared');
    pane.keys('u');
    await pane.waitFor((l) => l.some((x) => x.includes('Show user')), 'user picker');
    pane.keys('Down', 'Enter');
    lines = await pane.waitFor((l) => /user root/.test(l.join('\n')), 'user filter');
    expect(parseList(lines).rows.every((r) => r.USER === 'root')).toBe(true);
  });

  it('keeps the selection on the same thread while the table re-sorts', async () => {
    await start('--interval 250');
    pane.keys('/');
    pane.type('whytopzz');
    pane.keys('Enter');
    const selectedTid = async (): Promise<string> => {
      // The selected row is the one tmux shows in reverse/colour: find it through the escape codes.
      const raw = pane.tmux('capture-pane', '-p', '-e', '-t', 'main').split('\n');
      const row = raw.find((l) => l.includes('\x1b[46m') || l.includes('\x1b[30;46m') || /\x1b\[[0-9;]*46m/.test(l));
      return row ? row.replace(/\x1b\[[0-9;]*m/g, '').trim().split(/\s+/)[0] : '';
    };
    const first = await (async () => {
      for (let i = 0; i < 30; i++) {
        const tid = await selectedTid();
        const lines = pane.screen();
        const r = parseList(lines).rows.find((x) => x.TID === tid);
        if (r?.COMMAND === 'whytopzz') return tid;
        await pause(100);
      }
      throw new Error('search did not select a whytopzz row:\n' + pane.screen().join('\n'));
    })();
    for (let i = 0; i < 8; i++) {
      await pause(300); // several re-sorts at a 250 ms interval
      expect(await selectedTid()).toBe(first);
    }
    pane.keys('>'); // re-sort by another column: still the same thread
    await pause(400);
    expect(await selectedTid()).toBe(first);
  });

  it('toggles threads and processes, shows the tree, and switches views', async () => {
    await start();
    pane.keys('H');
    let lines = await pane.waitFor((l) => parseList(l).header.includes('THR'), 'process list');
    expect(parseList(lines).header[0]).toBe('PID');
    pane.keys('F5');
    lines = await pane.waitFor((l) => l.some((x) => /[├└]─/.test(x)), 'tree');
    pane.keys('F5', 'H');
    await pane.waitFor((l) => parseList(l).header[0] === 'TID', 'thread list again');
    const views: Array<[string, RegExp]> = [
      ['2', /runnable but waiting|sleeping: waiting/],
      ['3', /Mode switches: time in user code vs in the kernel/],
      ['4', /Softirqs per second, by type and CPU/],
      ['5', /Memory: where RAM goes/],
      ['6', /I\/O: disks and network interfaces/],
      ['Tab', /CPU%/],
    ];
    for (const [key, text] of views) {
      pane.keys(key);
      await pane.waitFor((l) => text.test(l.join('\n')), `view ${key}`);
    }
  });

  it('opens the detail of a thread and help, and closes them with Esc', async () => {
    await start();
    pane.keys('Enter');
    // Wait for the whole detail: a capture can land while the terminal is still being redrawn.
    let lines = await pane.waitFor((l) => l.some((x) => /^Thread \d+ ".*" of process \d+/.test(x)) && l.some((x) => x.includes('current syscall: ')), 'thread detail');
    expect(lines.join('\n')).toMatch(/Where its time went/);
    expect(lines.join('\n')).toMatch(/current syscall: /);
    pane.keys('Escape', 'F1');
    lines = await pane.waitFor((l) => l.some((x) => x.includes('whytop help')), 'help');
    expect(lines.join('\n')).toMatch(/k F9\s+send a signal/);
    pane.keys('PageDown');
    await pane.waitFor((l) => /WAIT%\s+share of the interval spent runnable but waiting for a CPU/.test(l.join('\n')), 'column help after scrolling');
    pane.keys('Escape');
    await pane.waitFor((l) => parseList(l).rows.length > 3, 'list again');
  });

  it('shows names with control bytes escaped, never raw', async () => {
    await start();
    pane.keys('\\');
    pane.type('evil');
    pane.keys('Enter');
    const lines = await pane.waitFor((l) => parseList(l).rows.length === 1, 'the evil row');
    expect(parseList(lines).rows[0].COMMAND).toBe('evil\\x1b[31mX');
    const raw = pane.tmux('capture-pane', '-p', '-e', '-t', 'main');
    expect(raw).not.toMatch(/evil\x1b/);
  });

  it('adapts to resizes, says when the terminal is too small, and redraws when it grows', async () => {
    await start();
    pane.resize(80, 24);
    let lines = await pane.waitFor((l) => l.length >= 24 && parseList(l).rows.length > 3 && l.every((x) => x.length <= 80), '80x24');
    expect(parseList(lines).header).toContain('CPU%');
    expect(parseList(lines).header).toContain('COMMAND');
    pane.resize(30, 8);
    await pane.waitFor((l) => l.join('\n').includes('terminal too small'), 'too small');
    pane.resize(200, 50);
    lines = await pane.waitFor((l) => parseList(l).header.includes('WCHAN'), 'wide again');
    expect(lines.join('\n')).not.toContain('terminal too small');
  });

  it('remembers sort, view and list mode across runs, and reports a broken config file', async () => {
    await start();
    pane.keys('H', 'M');
    await pane.waitFor((l) => parseList(l).header.includes('THR') && l.some((x) => /MEM%▼/.test(x)), 'processes by memory');
    pane.keys('q');
    await pane.waitFor((l) => l.some((x) => x.includes('WHYTOP-EXITED 0')), 'exit');
    const config = JSON.parse(fs.readFileSync(path.join(pane.configHome, 'whytop/config.json'), 'utf8'));
    expect(config).toMatchObject({ listMode: 'processes', sort: { column: 'mem', descending: true } });
    const again = new TmuxPane();
    fs.mkdirSync(path.join(again.configHome, 'whytop'), { recursive: true });
    fs.writeFileSync(path.join(again.configHome, 'whytop/config.json'), JSON.stringify(config));
    pane.stop();
    pane = again;
    pane.start(WHYTOP);
    await pane.waitFor((l) => parseList(l).header.includes('THR') && l.some((x) => /MEM%▼/.test(x)), 'settings restored');
    pane.keys('q');
    await pane.waitFor((l) => l.some((x) => x.includes('WHYTOP-EXITED 0')), 'exit');
    pane.stop();
    const broken = new TmuxPane();
    fs.mkdirSync(path.join(broken.configHome, 'whytop'), { recursive: true });
    fs.writeFileSync(path.join(broken.configHome, 'whytop/config.json'), '{ not json');
    pane = broken;
    pane.start(WHYTOP);
    await pane.waitFor((l) => /config\.json is not valid JSON; ignoring it/.test(l.join('\n')) && parseList(l).header[0] === 'TID', 'broken config reported, defaults used');
  });

  it('sends a signal to the selected process after confirmation, and renices a thread', async () => {
    const victim = spawn(path.join(dir, 'whytopzz'), ['600'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => victim.on('exit', (_code, signal) => resolve(signal)));
    await start();
    pane.keys('\\');
    pane.type(`^whytopzz$`);
    pane.keys('Enter');
    await pane.waitFor((l) => parseList(l).rows.some((r) => r.TID === String(victim.pid)), 'filtered');
    // Select the victim's row (single-threaded: its tid is its pid).
    const rows = parseList(pane.screen()).rows;
    const index = rows.findIndex((r) => r.TID === String(victim.pid));
    expect(index).toBeGreaterThanOrEqual(0);
    pane.keys('Home');
    for (let i = 0; i < index; i++) pane.keys('Down');
    pane.keys('F8');
    await pane.waitFor((l) => l.join('\n').includes('nice +1 for 1 thread'), 'renice message');
    expect(Number(fs.readFileSync(`/proc/${victim.pid}/stat`, 'utf8').split(') ')[1].split(' ')[16])).toBe(1);
    pane.keys('k');
    await pane.waitFor((l) => l.some((x) => x.includes('Send signal')), 'signal picker');
    pane.keys('Enter');
    await pane.waitFor((l) => l.some((x) => x.includes(`send SIGTERM to process ${victim.pid}`)), 'confirmation');
    pane.keys('y');
    expect(await exited).toBe('SIGTERM');
  });

  it('quits with q and restores the terminal', async () => {
    await start();
    pane.keys('q');
    const lines = await pane.waitFor((l) => l.some((x) => x.includes('WHYTOP-EXITED 0')), 'exit');
    expect(lines.join('\n')).not.toMatch(/CPU%/); // left the alternate screen
  });

  it('restores the terminal after SIGTERM (cursor, echo, alternate screen)', async () => {
    pane = new TmuxPane();
    pane.start('bash --norc --noprofile', 160, 48, { PS1: 'PROMPT$ ' });
    await pane.waitFor((l) => l.some((x) => x.includes('PROMPT$')), 'shell');
    pane.type(`XDG_CONFIG_HOME=${pane.configHome} ${WHYTOP} & sleep 0.2; fg\n`);
    await pane.waitFor((l) => parseList(l).rows.length > 3, 'whytop running');
    const pids = spawnSync('pgrep', ['-f', `${BIN}$`], { encoding: 'utf8' }).stdout.trim().split('\n').map(Number).filter(Boolean);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGTERM');
    await pane.waitFor((l) => l.filter((x) => x.includes('PROMPT$')).length >= 2, 'shell prompt back');
    pane.type('stty -a | tr " " "\\n" | grep -xE "echo|icanon" | sort | tr "\\n" " "; echo\n');
    const lines = await pane.waitFor((l) => l.some((x) => /^echo icanon/.test(x.trim()) || /^icanon echo/.test(x.trim())), 'echo and icanon on');
    expect(lines.join('\n')).not.toMatch(/CPU%▼/);
  });

  it('suspends with Ctrl-Z and redraws after fg', async () => {
    pane = new TmuxPane();
    pane.start('bash --norc --noprofile -i', 160, 48, { PS1: 'PROMPT$ ' });
    await pane.waitFor((l) => l.some((x) => x.includes('PROMPT$')), 'shell');
    pane.type(`XDG_CONFIG_HOME=${pane.configHome} ${WHYTOP}\n`);
    await pane.waitFor((l) => parseList(l).rows.length > 3, 'whytop running');
    pane.keys('C-z');
    await pane.waitFor((l) => l.some((x) => /Stopped/.test(x)), 'stopped job');
    pane.type('fg\n');
    await pane.waitFor((l) => parseList(l).rows.length > 3 && l.some((x) => /LIVE/.test(x)), 'redrawn after fg');
    pane.keys('q');
    await pane.waitFor((l) => l.filter((x) => x.includes('PROMPT$')).length >= 2, 'quit to the shell');
  });

  it('uses 256 colours and keeps stderr clean when TERM is tmux-256color', async () => {
    pane = new TmuxPane();
    const errFile = path.join(pane.configHome, 'stderr');
    pane.start(`${WHYTOP} 2>${errFile}`, 160, 48, { TERM: 'tmux-256color' });
    await pane.waitFor((l) => parseList(l).rows.length > 3, 'first frame');
    // Dim text is bright black (colour 8): an 8-colour fallback terminfo could not show it.
    expect(pane.tmux('capture-pane', '-p', '-e', '-t', 'main')).toMatch(/\x1b\[(90|38;5;8)m/);
    pane.keys('q');
    await pane.waitFor((l) => l.some((x) => x.includes('WHYTOP-EXITED 0')), 'exit');
    expect(fs.readFileSync(errFile, 'utf8')).toBe('');
  });
});

describe('batch mode', () => {
  it('prints plain text tables when stdout is not a terminal, and ends quietly in a closed pipe', () => {
    // Batch prints every thread: on a machine with 10000 threads that is megabytes per frame.
    const r = spawnSync('sh', ['-c', `${WHYTOP} --interval 200 --count 2 | cat`], { encoding: 'utf8', timeout: 60_000, maxBuffer: 512 * 1024 * 1024, env: { ...process.env, COLUMNS: '120' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^whytop \d{4}-/);
    expect(r.stdout.match(/^\s+TID\s+PID\s+USER/gm)).toHaveLength(2);
    expect(r.stdout).not.toMatch(/\x1b/);
    expect(r.stdout.split('\n').every((l) => l.length <= 120)).toBe(true);
    const head = spawnSync('sh', ['-c', `${WHYTOP} --batch --interval 200 | head -n 3`], { encoding: 'utf8', timeout: 60_000 });
    expect(head.status).toBe(0);
    expect(head.stderr).toBe('');
  });
});
