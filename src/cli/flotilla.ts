#!/usr/bin/env node
// The one flotilla executable; the commands live in src/cli/. `make build` bundles it, with all it
// imports, into dist/flotilla.mjs (hack/build.ts), which is what every user and test runs.
import { main } from './main.js';

const code = await main(process.argv);
// A command that failed has nothing left to do (its reason is already on stderr): exit now, so
// that nothing it left behind, a socket or a timer, can keep a process that cannot serve alive.
// Success lets the event loop drain, so that output still buffered for a pipe is not cut off.
if (code !== 0) process.exit(code);
process.exitCode = code;
