// Live: threads by state. A parent blocked in vfork() until its child exits sleeps uninterruptibly
// (state D, in kernel_clone); whytop must show that thread in D (with a wait channel under --detail)
// and count states as ps -eLo stat does at the same moment, with both task readers.
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/model/frame.js';
import {
  VFORK_C,
  childrenOf,
  compileC,
  missingPrereqs,
  report,
  sampleAligned,
  start,
  stopAll,
  taskState,
  threadOf,
  titled,
  waitFor,
  readerArgs,
} from './workload.js';

afterAll(stopAll);

const skip = missingPrereqs({ tools: ['cc', 'ps'] });

/** Counts of the first letter of each `ps -eLo stat=` line. */
function psStateCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const s = line.trim()[0];
    if (s) counts[s] = (counts[s] ?? 0) + 1;
  }
  return counts;
}

describe('live: threads by state', () => {
  it(
    titled('a parent blocked in vfork() is in D with a wchan; D/R/S counts match ps -eLo stat (every task reader)', skip),
    { skip: skip !== null, timeout: 90_000 },
    async () => {
      const bin = await compileC('vforker', VFORK_C);
      const vf = start(bin, ['60'], { name: 'vforker' });
      const parent = vf.pid;
      await waitFor('the vfork parent to block in D', () => taskState(parent) === 'D', 5000, 20);
      const child = childrenOf(parent)[0];
      expect(child, 'the vfork child').toBeGreaterThan(0);

      const { frames, atStart, tools } = await sampleAligned({
        intervals: 3,
        whytopArgs: readerArgs('--detail'),
        tools: [{ cmd: 'ps', args: ['-eLo', 'stat='] }],
      });
      const kernelWchan = fs.readFileSync(`/proc/${parent}/wchan`, 'utf8').trim();
      expect(vf.running(), 'the vfork parent was still blocked after the window').toBe(true);
      expect(taskState(parent)).toBe('D');

      const ps = psStateCounts(tools[0]);
      const psTotal = Object.values(ps).reduce((a, b) => a + b, 0);
      const observed: Record<string, unknown> = { parent, kernelWchan, ps: { D: ps.D ?? 0, R: ps.R ?? 0, S: ps.S ?? 0, I: ps.I ?? 0, total: psTotal } };
      const problems: string[] = [];
      for (const [i, first] of atStart.entries()) {
        const backend = first.sampler.backend;
        const all: Frame[] = [first, ...frames[i]];
        for (const f of all) {
          const t = threadOf(f, parent);
          expect(t, `${backend}: whytop lists the vfork parent`).toBeDefined();
          expect(t!.state, `${backend}: vfork parent state`).toBe('D');
          // With --detail the wait channel is read: where in the kernel the thread sleeps.
          expect(t!.wchan, `${backend}: vfork parent wchan`).not.toBeNull();
          expect(t!.wchan).toBe(kernelWchan);
          expect(t!.cpu_pct ?? 0).toBeLessThan(1);
          expect(threadOf(f, child)?.state, `${backend}: the sleeping child`).toBe('S');
          expect(threadOf(f, child)?.wchan).not.toBeNull();
          expect(f.threads_by_state.D).toBeGreaterThanOrEqual(1);
          expect(Object.values(f.threads_by_state).reduce((a, b) => a + b, 0)).toBe(f.threads.length);
        }
        // Compared with ps at the moment the tools started (the frame whose sample was taken then).
        // Slack: D ±1 (our blocked parent is steady; a disk write elsewhere can add a D briefly); R
        // and S ±(3 + 2% of all threads), total ±(5 + 2%): tasks wake, sleep, start and exit
        // in the few ms between whytop's pass and ps's, and ps itself plus whytop's readers run.
        const f = atStart[i];
        const total = f.threads.length;
        const slack = 3 + 0.02 * total;
        const by = f.threads_by_state;
        observed[backend] = { D: by.D, R: by.R, S: by.S, I: by.I, total, wchan: threadOf(f, parent)?.wchan };
        const cmp = (what: string, w: number, p: number, allowed: number): void => {
          if (Math.abs(w - p) > allowed) problems.push(`${backend} ${what}: whytop ${w} vs ps ${p} (allowed ±${allowed.toFixed(1)})`);
        };
        cmp('D', by.D ?? 0, ps.D ?? 0, 1);
        cmp('R', by.R ?? 0, ps.R ?? 0, slack);
        cmp('S', by.S ?? 0, ps.S ?? 0, slack);
        cmp('I', by.I ?? 0, ps.I ?? 0, slack);
        cmp('threads', total, psTotal, 5 + 0.02 * total);
      }
      report('states', observed);
      expect(problems).toEqual([]);
      await vf.stop();
    },
  );
});
