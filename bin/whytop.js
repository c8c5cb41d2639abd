#!/usr/bin/env node
// Entry point of the `whytop` command: runs the compiled CLI (built by `npm install` via `prepare`).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`whytop: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
