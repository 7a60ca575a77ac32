#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=30
// The one flotilla executable; the commands live in src/cli/. `make build` bundles it, with all it
// imports, into dist/flotilla.mjs (hack/build.ts), which is what every user and test runs.
// Young generation of 4 MiB semi-spaces instead of V8's 16: on the agent's cold apply of 500
// objects (bench/agent-cost.ts) peak RSS 97 MiB instead of 104, and less CPU, not more (0.62 s
// against 0.96–1.27 s), as short-lived request objects are scavenged while still in cache.
// The old generation may grow to 1.3 times what the last full GC left, not V8's up to 4 times: the
// hub's live heap is small (40 MiB at 3,000 Works, from a heap snapshot) but bursts of Work writes
// made V8 grow its heap to 330 MiB of mostly garbage. At 1,000 clusters (bench/fanout.ts) the
// operator's peak RSS while creating 10 × 1,000 Works fell from 392 to 202 MiB for 9% more CPU
// (46.9 against 42.8 s); the agent's cold apply is unchanged (99 against 100 MiB, 1.12 against
// 1.06 s). A V8 heap flag is read only when the heap is made, so it must be on node's command line: the #! line
// gives it to every run of the executable (npm's bin, the image's entrypoint, the charts), and
// e2e/framework's programCommand to the tests and benches, which start it with node.
import { main } from './main.js';

const code = await main(process.argv);
// A command that failed has nothing left to do (its reason is already on stderr): exit now, so
// that nothing it left behind, a socket or a timer, can keep a process that cannot serve alive.
// Success lets the event loop drain, so that output still buffered for a pipe is not cut off.
if (code !== 0) process.exit(code);
process.exitCode = code;
