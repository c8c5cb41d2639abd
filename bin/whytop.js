#!/usr/bin/env -S node --max-semi-space-size=2
// Entry point of the `whytop` command: runs the compiled CLI (built by `npm install` via `prepare`).
// The node flag on the line above (also in package.json's start script, and read from here by
// bench/tui.ts) keeps V8's young generation small: each sample's short-lived objects are collected
// before they pile up, which keeps the resident size down at the cost of more, smaller collections.
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`whytop: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
