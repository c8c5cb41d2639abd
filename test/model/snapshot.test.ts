// Task and process tables: every producer hands out tables with V8's fast properties (a dictionary-mode
// table costs a hash lookup per column access in the reader and in derive), holding every column.
import * as v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { allocProcTable, allocTaskTable, fastTaskTable, PROC_NUMERIC_COLUMNS, TASK_NUMERIC_COLUMNS } from '../../src/model/snapshot.js';
import type { TaskTable } from '../../src/model/snapshot.js';
import { TsTaskReader } from '../../src/sources/tsTaskReader.js';
import { History } from '../../src/store/history.js';
import { makeSnapshot } from './snapshotBuilder.js';

v8.setFlagsFromString('--allow-natives-syntax');
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

describe('task tables', () => {
  it('fastTaskTable keeps every column as it was', () => {
    const loose = { count: 2, state: 'RS', comm: ['a', 'b'], wchan: [null, null] } as unknown as TaskTable;
    for (const col of TASK_NUMERIC_COLUMNS) loose[col] = new Float64Array([1, 2]);
    const fast = fastTaskTable(loose);
    expect(Object.keys(fast).sort()).toEqual(Object.keys(loose).sort());
    for (const key of Object.keys(loose) as Array<keyof TaskTable>) expect(fast[key]).toBe(loose[key]);
  });

  it('have fast properties, from every producer', async () => {
    expect(hasFastProperties(allocTaskTable(3))).toBe(true);
    expect(hasFastProperties(allocProcTable(3))).toBe(true);
    const reader = new TsTaskReader('test/fixtures/proc/threads');
    const sample = reader.read('none');
    reader.close();
    expect(hasFastProperties(sample.tasks)).toBe(true);
    expect(hasFastProperties(sample.procs)).toBe(true);
    expect(sample.tasks.count).toBeGreaterThan(0);
    const history = new History();
    await history.append(makeSnapshot(1, { tasks: [{ tid: 1, pid: 1 }, { tid: 2, pid: 1 }], procs: [{ pid: 1 }] }));
    const decoded = history.sample(0)!;
    expect(decoded.taskSample.tasks.count).toBe(2);
    expect(hasFastProperties(decoded.taskSample.tasks)).toBe(true);
    expect(Object.keys(decoded.taskSample.procs)).toEqual(expect.arrayContaining([...PROC_NUMERIC_COLUMNS]));
  });
});
