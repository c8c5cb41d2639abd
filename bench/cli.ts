// Command-line options of the benchmark drivers: errors that end the driver, and flag readers.

/** Says why the driver cannot go on, on stderr as `PREFIX: message`, and exits with status 2. */
export type Fail = (message: string) => never;

/** A Fail whose messages start with `prefix` (e.g. 'bench'). */
export function failWith(prefix: string): Fail {
  return (message) => {
    console.error(`${prefix}: ${message}`);
    process.exit(2);
  };
}

/** Reads flags and their values; a bad one ends the driver through `fail`. */
export class Flags {
  constructor(private readonly fail: Fail) {}

  /** Calls `visit` with each flag of `argv` in turn and a function that takes the value after it. */
  each(argv: readonly string[], visit: (flag: string, value: () => string) => void): void {
    for (let i = 0; i < argv.length; i++) {
      const flag = argv[i];
      const value = () => {
        const v = argv[++i];
        if (v === undefined) this.fail(`${flag} wants a value`);
        return v;
      };
      visit(flag, value);
    }
  }

  /** `v` as a number ≥ `min` (an integer unless `integer` is false). */
  number(flag: string, v: string | undefined, min: number, integer = true): number {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) this.fail(`${flag} wants ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${v}`);
    return n;
  }

  /** `v` as a comma-separated, non-empty list of items from `allowed`. */
  list<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T[] {
    const items = (v ?? '').split(',').filter(Boolean);
    for (const item of items) if (!allowed.includes(item as T)) this.fail(`${flag}: unknown ${item} (allowed: ${allowed.join(', ')})`);
    if (items.length === 0) this.fail(`${flag} wants a list`);
    return items as T[];
  }
}
