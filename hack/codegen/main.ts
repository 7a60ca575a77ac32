// `make generate`: schemas/*.yaml → crds/*.yaml, src/api/generated/{types,schemas,validators}.ts.
// `make verify-generated` (--check): regenerates in memory and fails, listing the files, when anything
// on disk differs, is missing, or is left over from a kind that no longer exists.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdFileName, crdYaml } from './crd.js';
import { lintSchema } from './lint.js';
import { type JsonObject, loadSchemas, resolveSchema } from './schemas.js';
import { typesModule } from './typescript.js';
import { schemasModule, validatorsModule } from './validators.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The folders the generator owns entirely: a file there that it does not produce is stale. */
const generatedDirs = ['crds', join('src', 'api', 'generated')];

/** Every generated file, by path relative to the repository root. */
async function generate(): Promise<Map<string, string>> {
  const api = loadSchemas(join(repoRoot, 'schemas'));
  const resolved = new Map<string, JsonObject>(api.kinds.map((kind) => [kind.kind, resolveSchema(kind.authored, api.definitions)]));
  const problems = api.kinds.flatMap((kind) => lintSchema(kind.kind, resolved.get(kind.kind) ?? {}));
  if (problems.length > 0) throw new Error(`the schemas have problems:\n  ${problems.join('\n  ')}`);

  const files = new Map<string, string>();
  for (const kind of api.kinds) files.set(join('crds', crdFileName(kind)), crdYaml(kind, resolved.get(kind.kind) ?? {}));
  const generatedDir = join('src', 'api', 'generated');
  files.set(join(generatedDir, 'types.ts'), await typesModule(api));
  files.set(join(generatedDir, 'schemas.ts'), schemasModule(api, resolved));
  files.set(join(generatedDir, 'validators.ts'), validatorsModule(api));
  return files;
}

function filesOnDisk(): string[] {
  return generatedDirs.flatMap((dir) =>
    existsSync(join(repoRoot, dir)) ? readdirSync(join(repoRoot, dir)).map((file) => join(dir, file)) : [],
  );
}

function staleFiles(files: Map<string, string>): string[] {
  const differing = [...files].filter(([path, content]) => {
    const absolute = join(repoRoot, path);
    return !existsSync(absolute) || readFileSync(absolute, 'utf8') !== content;
  });
  const leftOver = filesOnDisk().filter((path) => !files.has(path));
  return [...differing.map(([path]) => path), ...leftOver].sort();
}

function write(files: Map<string, string>): void {
  for (const path of filesOnDisk().filter((path) => !files.has(path))) rmSync(join(repoRoot, path));
  for (const [path, content] of files) {
    mkdirSync(dirname(join(repoRoot, path)), { recursive: true });
    writeFileSync(join(repoRoot, path), content);
  }
}

async function main(argv: string[]): Promise<number> {
  const files = await generate();
  if (argv.includes('--check')) {
    const stale = staleFiles(files);
    if (stale.length === 0) return 0;
    process.stderr.write(`generated files are stale; run make generate:\n  ${stale.join('\n  ')}\n`);
    return 1;
  }
  write(files);
  process.stdout.write(`generated ${[...files.keys()].map((path) => relative('.', join(repoRoot, path))).join(', ')}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
