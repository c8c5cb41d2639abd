// Compiles the benchmark's C helpers (harness.c, floor.c, sysloop.c) into bench/.build/ when a binary is
// missing or older than its source. Run directly (`tsx bench/build.ts`) or through ensureBuilt().
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const BUILD_DIR = join(BENCH_DIR, '.build');

export const HELPERS = ['harness', 'floor', 'sysloop'] as const;
export type Helper = (typeof HELPERS)[number];

function mtimeMs(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** Builds any helper that is missing or stale; returns the path of each binary. */
export function ensureBuilt(log: (line: string) => void = () => {}): Record<Helper, string> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const paths = {} as Record<Helper, string>;
  for (const name of HELPERS) {
    const source = join(BENCH_DIR, `${name}.c`);
    const binary = join(BUILD_DIR, name);
    const sourceTime = mtimeMs(source);
    if (sourceTime === null) throw new Error(`missing ${source}`);
    const binaryTime = mtimeMs(binary);
    if (binaryTime === null || binaryTime < sourceTime) {
      log(`building ${binary}`);
      const cc = process.env.CC ?? 'cc';
      try {
        execFileSync(cc, ['-O2', '-pthread', '-Wall', '-o', binary, source], { stdio: ['ignore', 'inherit', 'inherit'] });
      } catch (err) {
        throw new Error(`could not compile ${source} with ${cc} (${(err as Error).message})`);
      }
    }
    paths[name] = binary;
  }
  return paths;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const paths = ensureBuilt((line) => console.log(line));
  for (const path of Object.values(paths)) console.log(path);
}
