// `flotilla version`: this flotilla's version (its package.json) and the versions it was tested and
// ships with outside npm — Kubernetes, helm and kustomize, generated from the go.mod files that pin
// them (hack/testenv/*/go.mod) — plus the Node.js that runs it. `-o json` for scripts.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { pinnedVersions } from '../api/index.js';

/** The version in the package.json of this flotilla (the repository root for src/ and dist/ alike). */
export function packageVersion(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'flotilla' && pkg.version !== undefined) return pkg.version;
  }
  return 'unknown';
}

export interface VersionInfo {
  flotilla: string;
  kubernetes: string;
  helm: string;
  kustomize: string;
  node: string;
}

/** What `flotilla version` reports. */
export function versionInfo(flotilla: string = packageVersion(), node: string = process.version): VersionInfo {
  return { flotilla, ...pinnedVersions, node };
}

/** The text form: one `name version` line each, flotilla first. */
export function renderVersion(info: VersionInfo): string {
  const width = Math.max(...Object.keys(info).map((name) => name.length));
  return Object.entries(info)
    .map(([name, version]) => `${name.padEnd(width)}  ${version}\n`)
    .join('');
}

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description("Print flotilla's version and the Kubernetes, helm and kustomize versions it is tested and ships with.")
    .option('-o, --output <format>', 'text or json', 'text')
    .action((flags: { output: string }) => {
      if (flags.output !== 'text' && flags.output !== 'json') throw new Error(`--output must be text or json, not ${flags.output}`);
      const info = versionInfo();
      process.stdout.write(flags.output === 'json' ? `${JSON.stringify(info, null, 2)}\n` : renderVersion(info));
    });
}
