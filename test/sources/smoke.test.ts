import { describe, expect, it } from 'vitest';
import { allocTaskTable } from '../../src/model/snapshot.js';

describe('allocTaskTable', () => {
  it('fills numeric columns with NaN (not available, not zero)', () => {
    const t = allocTaskTable(2);
    expect(t.utimeTicks.length).toBe(2);
    expect(Number.isNaN(t.utimeTicks[0])).toBe(true);
  });
});
