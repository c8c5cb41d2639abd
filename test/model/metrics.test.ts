// The catalog and the frame must describe each other exactly, and the README must document every id.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { derive } from '../../src/model/derive.js';
import { METRICS } from '../../src/model/metrics.js';
import { dumpRecord } from '../../src/output/dump.js';
import { Sampler } from '../../src/sources/sampler.js';

const FIXTURE = path.resolve(__dirname, '../fixtures/proc/threads');
/** Containers whose keys come from the data. */
const DYNAMIC = new Set(['threads_by_state', 'softirqs', 'softirq_time_pct', 'pressure']);

/** Catalog-style paths of every leaf of a frame. */
function paths(value: unknown, prefix: string, out: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    if (value.length > 0 && typeof value[0] === 'object' && value[0] !== null) for (const v of value) paths(v, `${prefix}[]`, out);
    else out.add(prefix);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) paths(v, prefix === '' ? k : `${prefix}.${DYNAMIC.has(prefix) ? '*' : k}`, out);
  } else out.add(prefix);
  return out;
}

/** A dump record from the fixture tree, with one hint of every field. */
function fixtureRecord() {
  const sampler = new Sampler({ procRoot: FIXTURE, noNative: true });
  const a = sampler.sample('all');
  const b = sampler.sample('all');
  sampler.close();
  return dumpRecord(derive(a, b), [{ id: 'x', severity: 'info', subject: { kind: 'thread', id: 1, pid: 1 }, message: 'm', explain: 'e' }]);
}

describe('metric catalog', () => {
  it('has unique ids, each with a unit, sources list and meaning', () => {
    const ids = METRICS.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of METRICS) {
      expect(m.meaning.length, m.id).toBeGreaterThan(5);
      expect(m.label.length, m.id).toBeGreaterThan(0);
    }
  });

  it('lists exactly the fields a dump record has', () => {
    const framePaths = paths(fixtureRecord(), '', new Set());
    expect([...framePaths].filter((p) => !METRICS.some((m) => m.id === p))).toEqual([]);
    expect(METRICS.map((m) => m.id).filter((id) => !framePaths.has(id))).toEqual([]);
  });

  it('is documented in the README, id by id', () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const missing = METRICS.filter((m) => !readme.includes(`\`${m.id}\``)).map((m) => m.id);
    expect(missing).toEqual([]);
  });
});
