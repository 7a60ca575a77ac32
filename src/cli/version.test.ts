import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it, jest } from '@jest/globals';
import { pinnedModules, requiredVersion } from '../../hack/codegen/versions.js';
import { main } from './main.js';
import { packageVersion, renderVersion } from './version.js';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const pinnedInGoMod = (name: string): string | undefined => {
  const pinned = pinnedModules.find((m) => m.name === name);
  if (pinned === undefined) return undefined;
  return requiredVersion(readFileSync(join(repoRoot, 'hack', 'testenv', pinned.folder, 'go.mod'), 'utf8'), pinned.module);
};

/** Runs `flotilla ARGS` in-process and returns its exit code and what it wrote. */
async function flotilla(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(['node', 'flotilla', ...args]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('flotilla version', () => {
  it('reports the package version and the Kubernetes, helm and kustomize versions the go.mod files pin, as JSON', async () => {
    const { code, stdout } = await flotilla('version', '-o', 'json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      flotilla: pkg.version,
      kubernetes: pinnedInGoMod('kubernetes'),
      helm: pinnedInGoMod('helm'),
      kustomize: pinnedInGoMod('kustomize'),
      node: process.version,
    });
  });

  it('prints one aligned line per component by default, flotilla first', async () => {
    const { code, stdout } = await flotilla('version');
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toBe(`flotilla    ${pkg.version}`);
    expect(stdout).toContain(`kubernetes  ${pinnedInGoMod('kubernetes') ?? ''}\n`);
  });

  it('refuses an unknown output format', async () => {
    const { code, stderr } = await flotilla('version', '-o', 'yaml');
    expect(code).toBe(1);
    expect(stderr).toBe('flotilla: --output must be text or json, not yaml\n');
  });
});

describe('renderVersion', () => {
  it('pads every name to the longest', () => {
    expect(renderVersion({ flotilla: '1.0.0', kubernetes: 'v1.36.3', helm: 'v4.3.2', kustomize: 'v5.8.2', node: 'v20.19.2' })).toBe(
      ['flotilla    1.0.0', 'kubernetes  v1.36.3', 'helm        v4.3.2', 'kustomize   v5.8.2', 'node        v20.19.2', ''].join('\n'),
    );
  });
});

describe('packageVersion', () => {
  it("finds flotilla's package.json above a folder of its sources", () => {
    expect(packageVersion(join(repoRoot, 'dist'))).toBe(pkg.version);
  });

  it('says unknown outside a flotilla tree', () => {
    expect(packageVersion('/')).toBe('unknown');
  });
});
