import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Running git, helm and kustomize for the hub, the way Argo CD's repo-server does, so that what a
// user writes in a GlobalService can make the hub run these three programs and nothing else:
//
// - Arguments are an array handed to the program itself: no shell ever parses them.
// - Every run gets a private directory (0700, removed afterwards) as HOME, TMPDIR and working
//   directory, so no tool reads the hub's own ~/.gitconfig, ~/.ssh, helm repositories or registry
//   logins, and nothing a run leaves behind is seen by the next.
// - The environment is built from nothing: PATH (for git only, which needs ssh), HOME, TMPDIR,
//   LC_ALL=C, the tool's own settings below and what the caller passes. No credential of the hub
//   process (tokens, proxies, SSH agent, KUBECONFIG) reaches a tool. helm and kustomize get no PATH
//   at all: neither has a reason to start another program, so a chart or a kustomization cannot make
//   them (kustomize runs `git` for remote bases; helm would run plugins and post-renderers).
// - A run is killed with its whole process group when it exceeds its time or its output limit.
// - Credentials reach a tool through its environment or 0600 files in the private directory, never
//   through argv (which every process on the machine can read). Failure messages are bounded and
//   scrubbed of every credential the caller names (see scrub()).
// - At most `maxConcurrent` runs at a time, so a fleet of renders queues instead of starving the hub.

export type ToolName = 'git' | 'helm' | 'kustomize';

/** Where each tool's executable is: an absolute path, or a name looked up in the hub's PATH once. */
export type ToolPaths = Readonly<Record<ToolName, string>>;

export interface ToolLimits {
  /** A run that takes longer is killed (its process group). */
  timeoutMs: number;
  /** A run that writes more to stdout is killed; its output is never half-used. */
  maxStdoutBytes: number;
  /** Only the last this many bytes of stderr are kept (the error is at the end). */
  maxStderrBytes: number;
  /** Runs beyond this many wait for a free slot. */
  maxConcurrent: number;
}

export const DEFAULT_TOOL_LIMITS: ToolLimits = {
  timeoutMs: 120_000,
  maxStdoutBytes: 64 * 1024 * 1024,
  maxStderrBytes: 64 * 1024,
  maxConcurrent: 4,
};

/** How long a tool's failure message may be in a status condition. */
export const TOOL_MESSAGE_LIMIT = 2048;

export interface ToolCall {
  tool: ToolName;
  args: readonly string[];
  /** The run's private directory (from withScratchDir): HOME, TMPDIR and default working directory. */
  scratch: string;
  cwd?: string;
  /** Added to the clean environment, e.g. credentials configuration. */
  env?: Readonly<Record<string, string>>;
  /** Values scrubbed from the failure message. */
  secrets?: readonly string[];
  signal?: AbortSignal;
}

export type ToolFailureKind = 'exit' | 'timeout' | 'output-limit' | 'aborted' | 'not-started';

export interface ToolFailure {
  kind: ToolFailureKind;
  /** The tool's own message (the end of its stderr), bounded and scrubbed. */
  message: string;
}

export type ToolResult = { ok: true; stdout: string; stderr: string } | { ok: false; failure: ToolFailure };

export interface ToolRunner {
  run(call: ToolCall): Promise<ToolResult>;
  /** How many times each tool was started since the runner was made (tests count renders by it). */
  invocations(tool: ToolName): number;
}

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/]*@/gi;
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
const AUTHORIZATION_HEADER = /\b(authorization:\s*)\S+(\s+\S+)?/gi;
const REDACTED = '***';

/**
 * The base64 text that encodes `secret` wherever it sits in a longer encoded value (a Basic
 * `user:password` header, a docker config `auth`): one form per byte alignment, cut to the
 * characters that depend on the secret's bytes only.
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: string[] = [];
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    const form = encoded.slice(first, end);
    // Shorter fragments match ordinary words; the plain secret itself is scrubbed at any length.
    if (form.length >= 4) forms.push(form);
  }
  return forms;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes credentials from a text a tool printed: every given secret value, its URL-encoded and
 * base64 forms, the userinfo of URLs (`https://user:token@host` → `https://***@host`), private key
 * blocks and Authorization header values.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  const plain = new Set<string>();
  const encoded = new Set<string>();
  for (const secret of secrets) {
    if (secret === '') continue;
    plain.add(secret);
    plain.add(encodeURIComponent(secret));
    for (const form of base64Forms(secret)) encoded.add(form);
  }
  // Longest first, so a form containing another is removed whole.
  let out = text;
  for (const form of [...plain].sort((a, b) => b.length - a.length)) out = out.split(form).join(REDACTED);
  // A base64 form takes the character and padding after it too: they still hold some of its bits.
  for (const form of [...encoded].sort((a, b) => b.length - a.length))
    out = out.replace(new RegExp(`${escapeRegExp(form)}[A-Za-z0-9+/]?=*`, 'g'), REDACTED);
  return out
    .replace(PRIVATE_KEY_BLOCK, '[private key]')
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(AUTHORIZATION_HEADER, `$1${REDACTED}`);
}

/** Runs `fn` with a fresh private directory (0700) that is removed afterwards, whatever happens. */
export async function withScratchDir<T>(fn: (dir: string) => Promise<T>, parent: string = tmpdir()): Promise<T> {
  const dir = await mkdtemp(path.join(parent, 'flotilla-tool-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes a file only its owner can read (0600) into a scratch directory; returns its path. */
export async function writePrivateFile(scratch: string, name: string, content: string): Promise<string> {
  const file = path.join(scratch, name);
  await writeFile(file, content, { mode: 0o600, flag: 'wx' });
  return file;
}

/** Each tool's own settings, pointing everything it would read or write at the scratch directory. */
function toolSettings(tool: ToolName, scratch: string): Record<string, string> {
  switch (tool) {
    case 'git':
      return {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_TERMINAL_PROMPT: '0',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GCM_INTERACTIVE: 'never',
      };
    case 'helm':
      return {
        HELM_CACHE_HOME: path.join(scratch, 'helm', 'cache'),
        HELM_CONFIG_HOME: path.join(scratch, 'helm', 'config'),
        HELM_DATA_HOME: path.join(scratch, 'helm', 'data'),
        KUBECONFIG: path.join(scratch, 'no-kubeconfig'),
      };
    case 'kustomize':
      // Remote resources are not fetched: without PATH there is no git to clone them, and HTTP(S)
      // gets go nowhere (NO_NETWORK).
      return NO_NETWORK;
  }
}

/**
 * For runs that must not reach the network (helm template: a values.schema.json `$ref` to a URL;
 * kustomize: remote resources): every HTTP(S) request goes to a proxy on a loopback port that
 * refuses connections. Go's HTTP client honours it for every host but loopback ones.
 */
export const NO_NETWORK: Readonly<Record<string, string>> = {
  HTTPS_PROXY: 'http://127.0.0.1:9',
  HTTP_PROXY: 'http://127.0.0.1:9',
  NO_PROXY: '',
};

/** The environment of a run, built from nothing (see the module comment). */
export function toolEnvironment(call: Pick<ToolCall, 'tool' | 'scratch' | 'env'>): Record<string, string> {
  return { HOME: call.scratch, TMPDIR: call.scratch, LC_ALL: 'C', ...toolSettings(call.tool, call.scratch), ...call.env };
}

/** The absolute path of an executable: as given when absolute, else the first match in PATH. */
export function resolveExecutable(command: string, searchPath: string = process.env.PATH ?? ''): string | undefined {
  const candidates = path.isAbsolute(command) ? [command] : searchPath.split(path.delimiter).map((dir) => path.join(dir, command));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function failureMessage(call: ToolCall, text: string, fallback: string): string {
  const trimmed = scrub(text, call.secrets ?? []).trim();
  return truncateTail(trimmed === '' ? fallback : trimmed, TOOL_MESSAGE_LIMIT);
}

/** Keeps the end of a long text, where tools print their error. */
function truncateTail(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - (max - 1))}`;
}

interface Collected {
  stdout: Buffer[];
  stdoutBytes: number;
  stderr: Buffer;
}

function spawnOnce(executable: string, call: ToolCall, limits: ToolLimits): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = spawn(executable, call.args, {
      cwd: call.cwd ?? call.scratch,
      env: toolEnvironment(call),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a timeout also ends what it started (git-remote-https, ssh).
      detached: true,
    });
    const collected: Collected = { stdout: [], stdoutBytes: 0, stderr: Buffer.alloc(0) };
    let stopped: ToolFailure | undefined;
    const stop = (failure: ToolFailure): void => {
      if (stopped) return;
      stopped = failure;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    };
    const timer = setTimeout(() => {
      stop({ kind: 'timeout', message: `${call.tool} did not finish within ${Math.round(limits.timeoutMs / 1000)}s` });
    }, limits.timeoutMs);
    const onAbort = (): void => {
      stop({ kind: 'aborted', message: `${call.tool} was cancelled` });
    };
    call.signal?.addEventListener('abort', onAbort, { once: true });
    if (call.signal?.aborted === true) onAbort();
    child.stdout.on('data', (chunk: Buffer) => {
      collected.stdoutBytes += chunk.length;
      if (collected.stdoutBytes > limits.maxStdoutBytes)
        stop({ kind: 'output-limit', message: `${call.tool} wrote more than ${limits.maxStdoutBytes} bytes of output` });
      else collected.stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      const joined = Buffer.concat([collected.stderr, chunk]);
      collected.stderr = joined.subarray(Math.max(0, joined.length - limits.maxStderrBytes));
    });
    const settle = (result: ToolResult): void => {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    child.on('error', (error) => {
      // A program that never started has no process group to kill and may never emit 'close'.
      if (child.pid === undefined)
        settle({ ok: false, failure: { kind: 'not-started', message: `${call.tool} could not be started: ${error.message}` } });
    });
    // A stopped run is done once git, helm or kustomize itself has exited: something it started
    // that left its process group may still hold the pipes open, and would keep 'close' away.
    child.on('exit', () => {
      if (!stopped) return;
      child.stdout.destroy();
      child.stderr.destroy();
      settle({ ok: false, failure: stopped });
    });
    child.on('close', (code, signal) => {
      const stderr = collected.stderr.toString('utf8');
      if (stopped) {
        settle({ ok: false, failure: stopped });
      } else if (code !== 0) {
        const status = code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${code}`;
        settle({ ok: false, failure: { kind: 'exit', message: failureMessage(call, stderr, `${call.tool} ${status}`) } });
      } else {
        settle({ ok: true, stdout: Buffer.concat(collected.stdout).toString('utf8'), stderr });
      }
    });
  });
}

/** A runner that starts the tools at `paths` under `limits`, counting every start. */
export function createToolRunner(paths: ToolPaths, limits: Partial<ToolLimits> = {}): ToolRunner {
  const effective: ToolLimits = { ...DEFAULT_TOOL_LIMITS, ...limits };
  const counts = new Map<ToolName, number>();
  const executables = new Map<ToolName, string | undefined>();
  let running = 0;
  const waiting: (() => void)[] = [];
  const acquire = async (): Promise<void> => {
    if (running < effective.maxConcurrent) {
      running += 1;
      return;
    }
    // The slot is handed over by release(), so `running` does not change here.
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  };
  return {
    async run(call) {
      if (!executables.has(call.tool)) executables.set(call.tool, resolveExecutable(paths[call.tool]));
      const executable = executables.get(call.tool);
      if (executable === undefined)
        return { ok: false, failure: { kind: 'not-started', message: `${call.tool} was not found at ${paths[call.tool]}` } };
      await acquire();
      try {
        counts.set(call.tool, (counts.get(call.tool) ?? 0) + 1);
        return await spawnOnce(executable, call, effective);
      } finally {
        release();
      }
    },
    invocations: (tool) => counts.get(tool) ?? 0,
  };
}
