// Where /sys is for a proc root. The convention: a proc root named `proc` has its sysfs beside it,
// named `sys` — /proc and /sys, a host's trees mounted at /host/proc and /host/sys, or a fixture
// tree X/proc with X/sys. Any other root has none, and readers fall back to what names alone say.
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The sysfs root that goes with `procRoot` (the `sys` directory beside a root named `proc`), or null. */
export function sysRootOf(procRoot: string): string | null {
  const resolved = path.resolve(procRoot);
  if (path.basename(resolved) !== 'proc') return null;
  const sys = path.join(path.dirname(resolved), 'sys');
  return existsSync(sys) ? sys : null;
}
