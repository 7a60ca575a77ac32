import { execFile } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built flotilla program (`make build`: hack/build.ts), the one file every test and bench runs. */
export const flotillaProgram = join(repoRoot, 'dist', 'flotilla.mjs');

/**
 * How to start `flotilla ARGS...` with node: the node flags of the program's own #! line
 * (src/cli/flotilla.ts), then `nodeArgs` (such as --cpu-prof, which NODE_OPTIONS refuses), so that
 * a test or bench runs the program as its executable runs it.
 */
export function programCommand(args: string[], nodeArgs: string[] = []): [string, string[]] {
  const head = Buffer.alloc(256);
  const fd = openSync(flotillaProgram, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const hashbangFlags = (head.toString('utf8').split('\n')[0] ?? '').split(' ').filter((word) => word.startsWith('--'));
  return [process.execPath, [...hashbangFlags, ...nodeArgs, flotillaProgram, ...args]];
}
const testenvCommand = join(repoRoot, 'hack', 'testenv', 'testenv');

export type PlaneName = 'hub' | 'spoke-1' | 'spoke-2';

/** The control planes every e2e run starts (planes.json, which the global setup reads too). */
export const planeNames = JSON.parse(readFileSync(join(repoRoot, 'e2e', 'framework', 'planes.json'), 'utf8')) as PlaneName[];

/** What a plane's supervisor publishes in `.testenv/NAME/state.json` (hack/testenv/tool/plane.go). */
export interface PlaneState {
  name: string;
  supervisorPID: number;
  phase: 'Starting' | 'Ready' | 'Failed' | 'Stopped';
  message?: string;
  apiServerURL: string;
  /** etcd's client URL (local planes only), for tests that must reach under the apiserver. */
  etcdURL?: string;
  apiServerState: 'Running' | 'Stopped' | '';
  kubeconfig: string;
  binDir: string;
  pids: Record<string, number>;
  /** The apiserver's audit log (JSON lines, metadata only), when the plane was started with `up --audit`. */
  auditLog?: string;
  /** Set by hack/kind/up.sh; local planes leave it out. */
  provider?: 'kind';
}

export function stateDir(): string {
  return process.env.FLOTILLA_TESTENV_DIR ?? join(repoRoot, process.env.E2E_PROVIDER === 'kind' ? '.kind' : '.testenv');
}

export function readPlaneState(name: string): PlaneState {
  return JSON.parse(readFileSync(join(stateDir(), name, 'state.json'), 'utf8')) as PlaneState;
}

/** Runs `hack/testenv/testenv ARGS...` and returns its standard output. */
export async function testenv(...args: string[]): Promise<string> {
  const { stdout } = await run(testenvCommand, args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/**
 * Takes a plane's apiserver off the network or brings it back, returning once that is true: an outage
 * for tests of watches, autonomy and reconnection. Local planes stop the kube-apiserver process;
 * kind clusters pause the node container.
 */
export async function setAPIServer(name: PlaneName, action: 'stop' | 'start'): Promise<void> {
  if (readPlaneState(name).provider === 'kind') {
    await run(join(repoRoot, 'hack', 'kind', 'apiserver.sh'), [name, action]);
    return;
  }
  await testenv('apiserver', name, action);
}
