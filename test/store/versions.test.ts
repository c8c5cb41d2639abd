// Version skew: the committed recording of every format version still decodes; newer ones are refused.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FORMAT_VERSION, RecordingError } from '../../src/store/format.js';
import { RecordingReader } from '../../src/store/reader.js';
import { snapshotFromJson, tempDir, withFormatVersion } from './helpers.js';

const dir = fileURLToPath(new URL('../fixtures/recordings/', import.meta.url));
const versions = readdirSync(dir)
  .filter((f) => /^v\d+\.whytop$/.test(f))
  .map((f) => Number(f.slice(1, -'.whytop'.length)));
const tmp = tempDir();

describe('recording fixtures', () => {
  it('exist for every format version up to this one', () => {
    expect(versions.sort((a, b) => a - b)).toEqual(Array.from({ length: FORMAT_VERSION }, (_, i) => i + 1));
  });

  for (const v of versions) {
    it(`v${v} decodes to the snapshots it was made from`, () => {
      const expected = JSON.parse(readFileSync(`${dir}v${v}.json`, 'utf8')) as { header: unknown; samples: unknown[] };
      const reader = RecordingReader.open(`${dir}v${v}.whytop`, { verify: true });
      expect(reader.header).toEqual(expected.header);
      expect(reader.damage).toEqual([]);
      const samples = [...reader.samples()];
      reader.close();
      expect(samples.length).toBe(expected.samples.length);
      // A subset match: columns added to the model since then decode as NaN and are not compared.
      samples.forEach((s, i) => expect(s).toMatchObject(snapshotFromJson(expected.samples[i]) as object));
    });
  }

  it('a newer format version is refused with a clear message', () => {
    const path = tmp('v99.whytop');
    writeFileSync(path, withFormatVersion(readFileSync(`${dir}v1.whytop`), 99));
    expect(() => RecordingReader.open(path)).toThrow(RecordingError);
    expect(() => RecordingReader.open(path)).toThrow(`recording format v99 is newer than this whytop supports (v${FORMAT_VERSION}): upgrade whytop`);
  });
});
