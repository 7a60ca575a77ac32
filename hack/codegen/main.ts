// `make generate`: schemas/*.yaml → crds/*.yaml, src/api/generated/{types,schemas,validators}.ts;
// hack/testenv/*/go.mod → src/api/generated/versions.ts (the pinned Kubernetes, helm and kustomize);
// deploy/argocd/health/*.lua → deploy/argocd/argocd-cm.yaml.
// `make verify-generated` (--check): regenerates in memory and fails, listing the files, when anything
// on disk differs, is missing, or is left over from a kind that no longer exists.
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, staleFiles, write } from './generate.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function main(argv: string[]): Promise<number> {
  const files = await generate(repoRoot);
  if (argv.includes('--check')) {
    const stale = staleFiles(repoRoot, files);
    if (stale.length === 0) return 0;
    process.stderr.write(`generated files are stale; run make generate:\n  ${stale.join('\n  ')}\n`);
    return 1;
  }
  write(repoRoot, files);
  process.stdout.write(`generated ${[...files.keys()].map((path) => relative('.', join(repoRoot, path))).join(', ')}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
