// A Git host on loopback for e2e tests: the system's `git http-backend` (the CGI program real Git
// servers run) behind the HTTPS front, with basic auth required on every request, serving bare
// repositories from a private temporary folder; on request also over SSH (ssh-server.ts). Tests change a repository through a working clone
// beside it and push, as a developer would.
import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { type BasicCredentials, type LoopbackServer, randomCredentials, startHTTPSServer } from './https-server.js';
import { type SSHFront, startSSHFront } from './ssh-server.js';
import { createTestTLS, type TestTLS } from './tls.js';
import { gitEnvironment, runToolOk, temporaryDirectory } from './tools.js';

export interface GitServer extends LoopbackServer {
  /** The only credentials the server accepts (a random password per server). */
  credentials: BasicCredentials;
  tls: TestTLS;
  /**
   * Serves the same repositories over SSH as well (Debian's sshd on another loopback port), started
   * on first call; `url('NAME.git')` of the answer is a repository's ssh:// URL.
   */
  serveSSH(): Promise<SSHFront>;
  /** Creates a bare repository `NAME.git` with a first commit on `branch` (default main). */
  createRepository(name: string, content: TreeChange, options?: { branch?: string; message?: string }): Promise<GitRepository>;
}

/** What a commit changes: the whole tree replaced by a folder's content, then single files written (or deleted: null). */
export interface TreeChange {
  fromDir?: string;
  files?: Record<string, string | null>;
}

export interface GitRepository {
  name: string;
  /** `https://127.0.0.1:PORT/NAME.git`, to clone with the server's credentials and CA. */
  url: string;
  branch: string;
  /** Commits the change on the branch, pushes it, and returns the new commit's SHA-1. */
  commit(message: string, change: TreeChange): Promise<string>;
  /** Tags a commit (default: the branch's head) with an annotated tag, pushes it, and returns the commit's SHA-1. */
  tag(name: string, ref?: string): Promise<string>;
  /** Runs git in the working clone (e.g. `['revert', '--no-edit', 'HEAD']`) and returns its stdout; push() publishes the result. */
  git(args: string[]): Promise<string>;
  /** Pushes the working clone's branch and tags; returns the branch's head SHA-1. */
  push(): Promise<string>;
}

/** Starts the Git server; close() stops it and removes every repository. */
export async function startGitServer(options: { credentials?: BasicCredentials } = {}): Promise<GitServer> {
  const temp = await temporaryDirectory('git');
  const root = join(temp.path, 'repositories');
  await mkdir(root);
  const tls = await createTestTLS(temp.path);
  const credentials = options.credentials ?? randomCredentials();
  const backendEnv = { ...gitEnvironment(temp.path), GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1' };
  const server = await startHTTPSServer({
    tls,
    credentials,
    realm: 'flotilla e2e git',
    handle: (request, response, user) => httpBackend(request, response, { ...backendEnv, REMOTE_USER: user ?? '' }),
  });
  let ssh: Promise<SSHFront> | undefined;
  return {
    ...server,
    credentials,
    tls,
    serveSSH: () => (ssh ??= startSSHFront(root, join(temp.path, 'ssh'))),
    createRepository: (name, content, repositoryOptions = {}) =>
      createRepository(
        { root, work: join(temp.path, 'work'), env: gitEnvironment(temp.path), origin: server.origin },
        name,
        content,
        repositoryOptions,
      ),
    close: async () => {
      await server.close();
      await (await ssh?.catch(() => undefined))?.stop();
      await temp.remove();
    },
  };
}

interface RepositoryHome {
  root: string;
  work: string;
  env: Record<string, string>;
  origin: string;
}

async function createRepository(
  home: RepositoryHome,
  name: string,
  content: TreeChange,
  options: { branch?: string; message?: string },
): Promise<GitRepository> {
  const branch = options.branch ?? 'main';
  const bare = join(home.root, `${name}.git`);
  const work = join(home.work, name);
  const git = (args: string[], cwd = work) => runToolOk('git', args, { cwd, env: home.env });
  await mkdir(work, { recursive: true });
  await git(['init', '--quiet', '--bare', '--initial-branch', branch, bare], home.root);
  // As GitHub and GitLab do: a client may fetch any commit of the history by its SHA-1.
  await git(['config', 'uploadpack.allowReachableSHA1InWant', 'true'], bare);
  await git(['init', '--quiet', '--initial-branch', branch]);
  await git(['remote', 'add', 'origin', bare]);
  const push = async () => {
    await git(['push', '--quiet', '--follow-tags', 'origin', `HEAD:refs/heads/${branch}`]);
    return (await git(['rev-parse', 'HEAD'])).trim();
  };
  const commit = async (message: string, change: TreeChange) => {
    await applyChange(work, change);
    await git(['add', '--all']);
    await git(['commit', '--quiet', '--allow-empty', '--message', message]);
    return push();
  };
  await commit(options.message ?? 'first commit', content);
  return {
    name,
    url: `${home.origin}/${name}.git`,
    branch,
    commit,
    tag: async (tag, ref = 'HEAD') => {
      await git(['tag', '--annotate', '--message', tag, tag, ref]);
      await git(['push', '--quiet', 'origin', `refs/tags/${tag}`]);
      return (await git(['rev-parse', `${tag}^{commit}`])).trim();
    },
    git: (args) => git(args),
    push,
  };
}

async function applyChange(work: string, change: TreeChange): Promise<void> {
  if (change.fromDir !== undefined) {
    for (const entry of await readdir(work)) {
      if (entry !== '.git') await rm(join(work, entry), { recursive: true, force: true });
    }
    await cp(change.fromDir, work, { recursive: true, filter: (source) => !source.split('/').includes('.git') });
  }
  for (const [path, text] of Object.entries(change.files ?? {})) {
    const target = join(work, path);
    if (text === null) {
      await rm(target, { force: true });
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
  }
}

/** Runs one request through `git http-backend` by the CGI rules: request meta-variables in, headers + body out. */
function httpBackend(request: IncomingMessage, response: ServerResponse, env: Record<string, string>): Promise<void> {
  const url = new URL(request.url ?? '/', 'https://127.0.0.1');
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : '';
  };
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...env,
      REQUEST_METHOD: request.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: header('content-type'),
      // git compresses request bodies and speaks protocol v2 when these reach the backend.
      ...cgiVariable('CONTENT_LENGTH', header('content-length')),
      ...cgiVariable('HTTP_CONTENT_ENCODING', header('content-encoding')),
      ...cgiVariable('HTTP_GIT_PROTOCOL', header('git-protocol')),
      REMOTE_ADDR: request.socket.remoteAddress ?? '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  request.pipe(child.stdin);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolvePromise, reject) => {
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        response.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const split = cgiHeaderEnd(head);
      if (split === undefined) return;
      headersDone = true;
      const { status, headers } = parseCGIHeaders(head.subarray(0, split.index).toString('latin1'));
      response.writeHead(status, headers);
      response.write(head.subarray(split.index + split.length));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (!headersDone) {
        reject(new Error(`git http-backend exited ${code} without a response: ${stderr.trim()}`));
        return;
      }
      response.end();
      resolvePromise();
    });
  });
}

function cgiVariable(name: string, value: string): Record<string, string> {
  return value === '' ? {} : { [name]: value };
}

function cgiHeaderEnd(buffer: Buffer): { index: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { index: crlf, length: 4 };
  return lf >= 0 ? { index: lf, length: 2 } : undefined;
}

/** The CGI response header block: a `Status:` line sets the status (default 200), the rest are headers. */
export function parseCGIHeaders(block: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
    else headers[name] = value;
  }
  return { status, headers };
}
