import { toolPath } from '../../../../e2e/framework/tools.js';
import type { ToolName, ToolPaths } from '../tool.js';

// Where the tests find git, helm and kustomize: the way the hub is told (FLOTILLA_GIT,
// FLOTILLA_HELM, FLOTILLA_KUSTOMIZE), else the pinned builds hack/testenv makes (`testenv bin`),
// and the system's git.

const ENV: Record<ToolName, string> = { git: 'FLOTILLA_GIT', helm: 'FLOTILLA_HELM', kustomize: 'FLOTILLA_KUSTOMIZE' };

async function locate(tool: ToolName): Promise<string> {
  return process.env[ENV[tool]] ?? (tool === 'git' ? 'git' : await toolPath(tool));
}

export async function testToolPaths(): Promise<ToolPaths> {
  return { git: await locate('git'), helm: await locate('helm'), kustomize: await locate('kustomize') };
}
