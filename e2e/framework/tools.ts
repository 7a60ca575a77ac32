// The real tools tests drive — git (the system's), and the pinned helm, kustomize and OCI registry
// that hack/testenv builds — found through `testenv bin NAME`, never by guessing the cache folder.
import { createServer } from 'node:net';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testenv } from './testenv.js';

/** The binaries hack/testenv pins for sources (hack/testenv/{helm,kustomize,registry}/go.mod). */
export type PinnedTool = 'helm' | 'kustomize' | 'registry';

const paths = new Map<PinnedTool, Promise<string>>();

/** The absolute path of a pinned binary; the first call builds it if the cache lacks it. */
export function toolPath(name: PinnedTool): Promise<string> {
  let path = paths.get(name);
  if (path === undefined) {
    path = testenv('bin', name).then((out) => out.trim());
    paths.set(name, path);
  }
  return path;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Added to a minimal environment (PATH only), so no credential or config of the caller leaks in. */
  env?: Record<string, string>;
  input?: string;
}

/** Runs a program with arguments as an array (no shell); never throws on a non-zero exit. */
export function runTool(file: string, args: string[], options: RunOptions = {}): Promise<ToolResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      file,
      args,
      { cwd: options.cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like runTool, but throws with the command's stderr when it fails. */
export async function runToolOk(file: string, args: string[], options: RunOptions = {}): Promise<string> {
  const result = await runTool(file, args, options);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/**
 * The environment that keeps helm's configuration, caches and registry logins inside `home`, so
 * a test never reads or writes ~/.config/helm and two tests never share a login.
 */
export function helmEnvironment(home: string): Record<string, string> {
  return {
    HOME: home,
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_DATA_HOME: join(home, 'data'),
  };
}

/** Runs the pinned helm with its state in `home` (see helmEnvironment); never throws on a non-zero exit. */
export async function helm(home: string, args: string[], options: Omit<RunOptions, 'env'> = {}): Promise<ToolResult> {
  return runTool(await toolPath('helm'), args, { ...options, env: helmEnvironment(home) });
}

/** The environment for the system's git: no system or global configuration, a fixed identity. */
export function gitEnvironment(home: string): Record<string, string> {
  return {
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'flotilla e2e',
    GIT_AUTHOR_EMAIL: 'e2e@flotilla.test',
    GIT_COMMITTER_NAME: 'flotilla e2e',
    GIT_COMMITTER_EMAIL: 'e2e@flotilla.test',
  };
}

/** A private temporary folder and the function that removes it. */
export async function temporaryDirectory(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `flotilla-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A loopback port free right now, for a program that must be told its port (another may take it before it binds). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => {
        resolvePromise(port);
      });
    });
  });
}
