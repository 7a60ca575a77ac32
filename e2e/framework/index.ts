import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { type PlaneName, readPlaneState } from './testenv.js';

export { programCommand, planeNames, readPlaneState, repoRoot, setAPIServer, testenv, type PlaneName, type PlaneState } from './testenv.js';
export { createWidgetCRD, type Widget } from './widgets.js';
export { fixtures } from './fixtures.js';
export { startGitServer, type GitRepository, type GitServer, type TreeChange } from './git-server.js';
export { type SSHFront } from './ssh-server.js';
export { startHelmRepository, type HelmRepository, type PackagedChart } from './helm-repository.js';
export { type BasicCredentials, type LoopbackServer, type RequestRecord } from './https-server.js';
export { startOCIRegistry, type OCIRegistry, type PushedChart } from './oci-registry.js';
export { createTestTLS, type TestTLS } from './tls.js';
export {
  freeLoopbackPort,
  helm,
  helmEnvironment,
  gitEnvironment,
  runTool,
  runToolOk,
  temporaryDirectory,
  toolPath,
  type PinnedTool,
  type ToolResult,
} from './tools.js';

/** One running control plane, as a test sees it. */
export interface Plane {
  name: PlaneName;
  /** Path of the plane's admin kubeconfig (a system:masters client certificate). */
  kubeconfigPath: string;
  /** A fresh admin KubeConfig loaded from that file. */
  kubeConfig(): KubeConfig;
  apiServerURL: string;
}

export function plane(name: PlaneName): Plane {
  const state = readPlaneState(name);
  if (state.phase !== 'Ready') throw new Error(`plane ${name} is ${state.phase}: ${state.message ?? ''}`);
  return {
    name,
    kubeconfigPath: state.kubeconfig,
    apiServerURL: state.apiServerURL,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(state.kubeconfig);
      return kc;
    },
  };
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the pinned kubectl against a plane; never throws on a non-zero exit, so tests assert on it. */
export function kubectl(target: PlaneName, args: string[], input?: string): Promise<CommandResult> {
  const state = readPlaneState(target);
  return new Promise((resolvePromise) => {
    const child = execFile(
      join(state.binDir, 'kubectl'),
      ['--kubeconfig', state.kubeconfig, ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Like kubectl, but throws with the command's stderr when it fails. */
export async function kubectlOk(target: PlaneName, args: string[], input?: string): Promise<string> {
  const result = await kubectl(target, args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** A DNS-1123 name unique to this run, so tests sharing the planes never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Retries `check` until it returns without throwing, then returns its value; on timeout rethrows
 * the last error. Tests wait for conditions this way, never for a fixed time.
 */
export async function eventually<T>(check: () => Promise<T> | T, options: EventuallyOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const interval = options.intervalMs ?? 200;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
