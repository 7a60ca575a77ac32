// `make build`: the one way flotilla is bundled (esbuild's JS API), into OUTDIR (default dist/):
//   flotilla.mjs (+ .map)  the program — every command, and every npm dependency it uses, in one ESM
//                          file that needs no node_modules (bin, demo, e2e, benches and the image run it)
//   leader-thread.mjs      the hub's leader-election thread, which the program starts from beside itself
//   ui/app.js, ui/app.css  the dashboard's page, which the program serves from ui/ beside itself
// tsc only type-checks (`make lint`); unit tests run the sources.
// Usage: npx tsx hack/build.ts [OUTDIR] [--no-sourcemap]
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { Plugin } from 'esbuild';

const args = process.argv.slice(2);
const outdir = resolve(args.find((arg) => !arg.startsWith('--')) ?? 'dist');
const sourcemap = !args.includes('--no-sourcemap');
const root = fileURLToPath(new URL('..', import.meta.url));

const clientNodeDist = `${sep}@kubernetes${sep}client-node${sep}dist${sep}`;
const resolvingAgain = Symbol('resolving again');
/**
 * client-node's package.json declares no `sideEffects`, so esbuild must keep every module of its
 * generated API (dist/gen/: 700 model classes with static attribute maps, and the API classes) once
 * KubeConfig imports gen/index.js for two names — about 50 MiB of heap at start. Those modules only
 * define classes and tables, nothing global: marked side-effect free, the unused ones are left out.
 */
const clientNodeGeneratedApiIsPure: Plugin = {
  name: 'client-node-generated-api-is-pure',
  setup(build) {
    build.onResolve({ filter: /^\./ }, async (input) => {
      if (input.pluginData === resolvingAgain || !input.importer.includes(clientNodeDist)) return undefined;
      const { kind, importer, resolveDir } = input;
      const resolved = await build.resolve(input.path, { kind, importer, resolveDir, pluginData: resolvingAgain });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, sideEffects: resolved.path.includes(`${clientNodeDist}gen${sep}`) ? false : resolved.sideEffects };
    });
  },
};

/** A Node program of the sources' `entry`, with every npm dependency it uses, in one ESM file. */
const program = (entry: string, outfile: string): Promise<esbuild.BuildResult> =>
  esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap,
    plugins: [clientNodeGeneratedApiIsPure],
    // Some dependencies are CommonJS (winston, commander, prom-client…) and call require(), which an
    // ES module does not have.
    banner: {
      js: "import { createRequire as flotillaCreateRequire } from 'node:module'; const require = flotillaCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });

await Promise.all([
  program('src/cli/flotilla.ts', `${outdir}/flotilla.mjs`),
  // The hub's leader-election thread (src/runtime/leader-thread.ts) runs this, not the whole program:
  // a worker that loaded all of flotilla.mjs took 27 MiB more of the hub's RSS at 100 clusters.
  program('src/runtime/leader-thread.ts', `${outdir}/leader-thread.mjs`),
  esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/dashboard/ui/main.tsx'],
    outfile: `${outdir}/ui/app.js`,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'warning',
  }),
]);
