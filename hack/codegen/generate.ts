// The generator's core: every generated file's content, and which files on disk differ.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { argocdSnippet, argocdSnippetPath } from './argocd.js';
import { agentChartDir, apiPriorityTemplate, chartYaml, dashboardRbacTemplate, hubChartDir, hubRbacTemplate } from './chart.js';
import { crdFileName, crdYaml } from './crd.js';
import { lintSchema } from './lint.js';
import { type JsonObject, loadSchemas, resolveSchema } from './schemas.js';
import { typesModule } from './typescript.js';
import { schemasModule, validatorsModule } from './validators.js';
import { versionsModule } from './versions.js';

/** The folders the generator owns entirely: a file there that it does not produce is stale. */
const generatedDirs = ['crds', join(hubChartDir, 'crds'), join('src', 'api', 'generated')];

/** Every generated file, by path relative to the repository root. */
export async function generate(repoRoot: string): Promise<Map<string, string>> {
  const api = loadSchemas(join(repoRoot, 'schemas'));
  const resolved = new Map<string, JsonObject>(api.kinds.map((kind) => [kind.kind, resolveSchema(kind.authored, api.definitions)]));
  const problems = api.kinds.flatMap((kind) => lintSchema(kind.kind, resolved.get(kind.kind) ?? {}));
  if (problems.length > 0) throw new Error(`the schemas have problems:\n  ${problems.join('\n  ')}`);

  const files = new Map<string, string>();
  for (const kind of api.kinds) {
    const crd = crdYaml(kind, resolved.get(kind.kind) ?? {});
    files.set(join('crds', crdFileName(kind)), crd);
    // Helm installs a chart's crds/ (and never upgrades them: `flotilla install` does, see the chart's README).
    files.set(join(hubChartDir, 'crds', crdFileName(kind)), crd);
  }
  files.set(join(hubChartDir, 'templates', 'rbac.yaml'), hubRbacTemplate());
  files.set(join(hubChartDir, 'templates', 'dashboard-rbac.yaml'), dashboardRbacTemplate());
  files.set(join(hubChartDir, 'templates', 'api-priority.yaml'), apiPriorityTemplate());
  const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  files.set(join(hubChartDir, 'Chart.yaml'), chartYaml('flotilla-hub', 'The flotilla hub operator and its CRDs', version));
  files.set(join(agentChartDir, 'Chart.yaml'), chartYaml('flotilla-agent', "A flotilla member cluster's agent", version));
  const generatedDir = join('src', 'api', 'generated');
  files.set(join(generatedDir, 'types.ts'), await typesModule(api));
  files.set(join(generatedDir, 'schemas.ts'), schemasModule(api, resolved));
  files.set(join(generatedDir, 'validators.ts'), validatorsModule(api));
  files.set(join(generatedDir, 'versions.ts'), versionsModule(repoRoot));
  files.set(
    argocdSnippetPath,
    argocdSnippet(
      repoRoot,
      api.kinds.map((kind) => kind.kind),
    ),
  );
  return files;
}

function filesOnDisk(repoRoot: string): string[] {
  return generatedDirs.flatMap((dir) =>
    existsSync(join(repoRoot, dir)) ? readdirSync(join(repoRoot, dir)).map((file) => join(dir, file)) : [],
  );
}

/** The generated files under `repoRoot` that differ from `files`, are missing, or are left over. */
export function staleFiles(repoRoot: string, files: Map<string, string>): string[] {
  const differing = [...files].filter(([path, content]) => {
    const absolute = join(repoRoot, path);
    return !existsSync(absolute) || readFileSync(absolute, 'utf8') !== content;
  });
  const leftOver = filesOnDisk(repoRoot).filter((path) => !files.has(path));
  return [...differing.map(([path]) => path), ...leftOver].sort();
}

/** Writes `files` under `repoRoot` and removes the generated files no longer produced. */
export function write(repoRoot: string, files: Map<string, string>): void {
  for (const path of filesOnDisk(repoRoot).filter((path) => !files.has(path))) rmSync(join(repoRoot, path));
  for (const [path, content] of files) {
    mkdirSync(dirname(join(repoRoot, path)), { recursive: true });
    writeFileSync(join(repoRoot, path), content);
  }
}
