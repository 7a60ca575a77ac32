import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ToolName, ToolPaths } from '../tool.js';

// Where the tests find git, helm and kustomize: the way the hub is told (FLOTILLA_GIT,
// FLOTILLA_HELM, FLOTILLA_KUSTOMIZE), else the pinned builds `hack/testenv/testenv bin NAME`
// prints, else the name itself (looked up in PATH; a missing tool fails the test that needs it
// with "helm was not found at helm").

const ENV: Record<ToolName, string> = { git: 'FLOTILLA_GIT', helm: 'FLOTILLA_HELM', kustomize: 'FLOTILLA_KUSTOMIZE' };
const TESTENV = path.resolve(import.meta.dirname, '../../../../hack/testenv/testenv');

function testenvBinary(tool: ToolName): string | undefined {
  if (tool === 'git' || !existsSync(TESTENV)) return undefined;
  try {
    const printed = execFileSync(TESTENV, ['bin', tool], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return printed === '' ? undefined : printed;
  } catch {
    return undefined;
  }
}

function locate(tool: ToolName): string {
  return process.env[ENV[tool]] ?? testenvBinary(tool) ?? tool;
}

export function testToolPaths(): ToolPaths {
  return { git: locate('git'), helm: locate('helm'), kustomize: locate('kustomize') };
}
