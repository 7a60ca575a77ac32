#!/usr/bin/env node
// The one flotilla executable; the commands live in src/cli/ (compiled to dist/ by `make build`).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv);
