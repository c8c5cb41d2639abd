// The loader never throws: a package without a native build gets a one-line reason instead.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the loader (and what it imports) in a package of its own, without build/. */
function packageWithoutBuild(withNodeGypBuild: boolean): string {
  const pkg = mkdtempSync(join(tmpdir(), 'whytop-nobuild-'));
  dirs.push(pkg);
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'nobuild', type: 'module' }));
  for (const file of ['src/native/index.ts', 'src/model/snapshot.ts', 'src/sources/taskReader.ts']) {
    mkdirSync(dirname(join(pkg, file)), { recursive: true });
    copyFileSync(join(repo, file), join(pkg, file));
  }
  if (withNodeGypBuild) {
    mkdirSync(join(pkg, 'node_modules'));
    symlinkSync(join(repo, 'node_modules', 'node-gyp-build'), join(pkg, 'node_modules', 'node-gyp-build'));
  }
  return join(pkg, 'src', 'native', 'index.ts');
}

describe('native loader without a build', () => {
  for (const withNodeGypBuild of [true, false]) {
    it(`returns a reason, not an exception (node-gyp-build ${withNodeGypBuild ? 'present' : 'missing'})`, async () => {
      const mod = (await import(pathToFileURL(packageWithoutBuild(withNodeGypBuild)).href)) as typeof import('../../src/native/index.js');
      const loaded = mod.loadNativeTaskReader('/proc');
      expect(loaded.reader).toBeNull();
      expect(loaded.reason).toMatch(/^native addon not available: /);
      expect(loaded.reason).not.toContain('\n');
      expect(mod.nativeHostConstants()).toBeNull();
    });
  }
});
