// The hints in the real TUI, driven in tmux: on a fixture proc tree that never changes, the same
// hints are active in every run (a thread stuck in D, low free memory that is page cache, a process
// with a huge VSZ), so `w`, moving to a hint and Enter can be checked against what is selected and shown.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, HAVE_TMUX, ROOT, TmuxPane } from './tmux.js';

const WHYTOP = `'${process.execPath}' '${BIN}'`;

/** The threads fixture with low MemFree but plenty available, and process 100 with a VSZ 100 times its RSS. */
function hintsFixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whytop-why-'));
  fs.cpSync(path.join(ROOT, 'test/fixtures/proc/threads'), dir, { recursive: true });
  const edit = (file: string, from: RegExp, to: string): void => fs.writeFileSync(path.join(dir, file), fs.readFileSync(path.join(dir, file), 'utf8').replace(from, to));
  edit('meminfo', /^MemFree:.*$/m, 'MemFree:          500000 kB');
  edit('meminfo', /^MemAvailable:.*$/m, 'MemAvailable:   20000000 kB');
  edit('100/task/100/status', /^VmSize:.*$/m, 'VmSize:\t8000000 kB');
  return dir;
}

/** The first cell of the row drawn in the selection colour (cyan background), '' when none. */
function selectedFirstCell(pane: TmuxPane): string {
  const raw = pane.tmux('capture-pane', '-p', '-e', '-t', 'main').split('\n');
  // The status bar is cyan too: the selected row is the one above it that is.
  const rows = raw.slice(0, -2).filter((l) => /\x1b\[[0-9;]*46m/.test(l));
  return rows.length === 0 ? '' : rows[0].replace(/\x1b\[[0-9;]*m/g, '').trim().split(/\s+/)[0];
}

describe.skipIf(!HAVE_TMUX)('hints in the TUI (tmux, fixture proc root)', () => {
  const fixture = hintsFixture();
  let pane: TmuxPane;
  afterEach(() => pane?.stop());
  afterAll(() => fs.rmSync(fixture, { recursive: true, force: true }));

  it("shows the hints line and '!' marks, lists the hints with w, and Enter goes to each hint's subject", async () => {
    pane = new TmuxPane();
    pane.start(`${WHYTOP} --proc-root '${fixture}' --interval 250`, 160, 40);
    // All three hints: thread-blocked (3 frames), low-free-is-cache (3), demand-paging (5).
    let lines = await pane.waitFor((l) => l.some((x) => /^! evil\\x0aname\\x1b\[31m \(102\) blocked in D in io_schedule.*\(\+2 more: w\)/.test(x)), 'the hints line with three hints', 10_000);
    const header = lines.find((l) => /^\s*TID\s+PID/.test(l))!;
    const bang = header.indexOf(' ! ') + 1;
    const row = (tid: string): string => lines.find((l) => l.trim().startsWith(`${tid} `))!;
    expect(row('102')[bang]).toBe('!');
    expect(row('100')[bang]).toBe('i'); // a thread of the process with the demand-paging hint
    expect(row('1')[bang]).toBe(' ');

    // w: the list, most severe first, the first one explained.
    pane.keys('w');
    lines = await pane.waitFor((l) => l.some((x) => x.startsWith('Why: active hints')), 'the why list');
    const order = lines.filter((l) => /^(WARN|INFO|CRIT) /.test(l)).map((l) => l.slice(0, 4) + ' ' + (/blocked in D|free RAM|VSZ/.exec(l)?.[0] ?? '?'));
    expect(order).toEqual(['WARN blocked in D', 'INFO free RAM', 'INFO VSZ']);
    expect(lines.join('\n')).toMatch(/ordinary signals\s+are not handled until the wait ends|ordinary signals are not handled/);

    // The second hint: memory, so the Memory view with its hint listed.
    pane.keys('Down');
    await pane.waitFor((l) => l.some((x) => /Linux uses otherwise idle RAM/.test(x)), 'the second hint explained');
    pane.keys('Enter');
    lines = await pane.waitFor((l) => l.some((x) => x.startsWith('Memory: where RAM goes')), 'the Memory view');
    expect(lines.some((l) => /^i free RAM 2\.0% but 81% available/.test(l))).toBe(true);

    // The third: a process, so the process list with it selected.
    pane.keys('w', 'Down', 'Down', 'Enter');
    await pane.waitFor((l) => l.some((x) => /^\s*PID\s+USER/.test(x)) && !l.some((x) => x.startsWith('Why: active hints')), 'the process list');
    await pane.waitFor(() => selectedFirstCell(pane) === '100', 'process 100 selected');

    // The first: the blocked thread, selected in the thread list.
    pane.keys('w', 'Enter');
    await pane.waitFor((l) => l.some((x) => /^\s*TID\s+PID/.test(x)), 'the thread list');
    await pane.waitFor(() => selectedFirstCell(pane) === '102', 'thread 102 selected');
    // Enter on the selected row: its detail, with its wchan.
    pane.keys('Enter');
    lines = await pane.waitFor((l) => l.some((x) => /^Thread 102 /.test(x)) && l.some((x) => x.startsWith('wchan: ')), 'the detail of thread 102');
    expect(lines.join('\n')).toMatch(/wchan: io_schedule/);
    pane.keys('q');
  });
});
