// Remembered choices: sort, view, list mode, columns, interval and filters, in
// $XDG_CONFIG_HOME/whytop/config.json (default ~/.config/whytop/config.json). A broken file is
// reported and ignored, never fatal.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VIEWS } from './state.js';
import type { UiState } from './state.js';

/** The part of the UI state that persists. */
export type SavedSettings = Pick<UiState, 'view' | 'listMode' | 'sort' | 'hiddenColumns' | 'intervalMs' | 'filter' | 'userFilter' | 'stateFilter'>;

/** Where the config file lives. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'whytop', 'config.json');
}

/** Keeps only well-formed settings from parsed JSON; says what it dropped. */
export function validateSettings(raw: unknown): { settings: Partial<SavedSettings>; problems: string[] } {
  const settings: Partial<SavedSettings> = {};
  const problems: string[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { settings, problems: ['not a JSON object'] };
  const r = raw as Record<string, unknown>;
  const str = (v: unknown): v is string => typeof v === 'string';
  const check = <K extends keyof SavedSettings>(key: K, ok: boolean, value: SavedSettings[K]): void => {
    if (!(key in r)) return;
    if (ok) settings[key] = value;
    else problems.push(`bad ${key}`);
  };
  check('view', VIEWS.includes(r.view as never), r.view as SavedSettings['view']);
  check('listMode', ['threads', 'processes', 'tree'].includes(r.listMode as string), r.listMode as SavedSettings['listMode']);
  const sort = r.sort as { column?: unknown; descending?: unknown } | undefined;
  check('sort', !!sort && str(sort.column) && typeof sort.descending === 'boolean', sort as SavedSettings['sort']);
  check('hiddenColumns', Array.isArray(r.hiddenColumns) && r.hiddenColumns.every(str), r.hiddenColumns as string[]);
  check('intervalMs', typeof r.intervalMs === 'number' && Number.isInteger(r.intervalMs) && r.intervalMs >= 100 && r.intervalMs <= 3_600_000, r.intervalMs as number);
  for (const key of ['filter', 'userFilter', 'stateFilter'] as const) check(key, r[key] === null || str(r[key]), r[key] as string | null);
  return { settings, problems };
}

/** Reads the settings; a missing file gives {}, a broken one {} plus a one-line problem. */
export function loadSettings(file: string): { settings: Partial<SavedSettings>; problem: string | null } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { settings: {}, problem: null };
    return { settings: {}, problem: `cannot read ${file}: ${(err as Error).message}` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { settings: {}, problem: `${file} is not valid JSON; ignoring it` };
  }
  const { settings, problems } = validateSettings(raw);
  return { settings, problem: problems.length ? `${file}: ignored ${problems.join(', ')}` : null };
}

/** Writes the settings atomically (temp file + rename); returns an error message or null. */
export function saveSettings(file: string, state: UiState): string | null {
  const settings: SavedSettings = {
    view: state.view,
    listMode: state.listMode,
    sort: state.sort,
    hiddenColumns: state.hiddenColumns,
    intervalMs: state.intervalMs,
    filter: state.filter,
    userFilter: state.userFilter,
    stateFilter: state.stateFilter,
  };
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(settings, null, 2) + '\n');
    fs.renameSync(tmp, file);
    return null;
  } catch (err) {
    return `cannot save settings: ${(err as Error).message}`;
  }
}
