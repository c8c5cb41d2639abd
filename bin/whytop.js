#!/usr/bin/env -S node --max-semi-space-size=2 --single-threaded
// Entry point of the `whytop` command: runs the compiled CLI (built by `npm install` via `prepare`).
// The node flags on the line above (also in package.json's start script, and read from here by
// bench/tui.ts): a small young generation collects each sample's short-lived objects before they
// pile up, which keeps the resident size down; --single-threaded keeps V8's garbage collection and
// compilation on the main thread, which costs a monitor less CPU in total (helper threads trade
// CPU for pauses, and whytop has most of each second to spare).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`whytop: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
