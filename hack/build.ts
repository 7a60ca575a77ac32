// `make build`: the one way flotilla is bundled (esbuild's JS API), into OUTDIR (default dist/):
//   flotilla.mjs (+ .map)  the program — every command, and every npm dependency it uses, in one ESM
//                          file that needs no node_modules (bin, demo, e2e, benches and the image run it)
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

await Promise.all([
  esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/cli/flotilla.ts'],
    outfile: `${outdir}/flotilla.mjs`,
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
  }),
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
