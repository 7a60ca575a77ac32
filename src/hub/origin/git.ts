import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import type { ArtifactStore } from './store.js';
import { linksOutOfTree } from './tree.js';
import { writePrivateFile, type ToolRunner } from './tool.js';
import type { OriginCredentials, OriginPolicy } from './types.js';

// Git origins: resolve a ref with `git ls-remote`, fetch exactly that commit (depth 1) into the
// content-addressed store, report the revision the way Flux does.
//
// URLs. https and ssh (`ssh://[user@]host[:port]/path` and scp-like `user@host:path`) are fetched.
// Refused unless the hub allows them:
// - `file://` URLs and local paths (policy.allowLocal, the hub's --allow-local-sources, for tests):
//   a GlobalService would otherwise read any repository on the hub's disk, other tenants' included.
// - `http://` and `git://` (policy.allowInsecure, --allow-insecure-sources, for tests): nothing authenticates the
//   server, so anyone on the path can hand the hub other manifests, which it then ships to every
//   cluster of the fleet; and a password or token would cross the network in clear text.
// Every other transport (`ext::` runs a command!) is refused always; GIT_ALLOW_PROTOCOL repeats the
// same list to git itself. A password inside the URL is refused: credentials belong in the Secret.
//
// Credentials never appear in argv: basic auth and bearer tokens become an `http.<url>.extraHeader`
// through GIT_CONFIG_COUNT/KEY/VALUE (scoped to the origin's URL), a CA becomes http.sslCAInfo, an
// SSH key and known_hosts are 0600 files in the run's private directory named by GIT_SSH_COMMAND,
// which also ignores every ssh config of the hub (-F /dev/null), checks the host key strictly
// against the given known_hosts only, and never asks (BatchMode).
//
// Always `git ls-remote` first, even for a pinned commit: it proves the credentials can read the
// repository before a cached tree is handed out (the cache is keyed by URL and commit, so another
// service cannot get a private tree by naming its commit under its own URL).

export type GitRef = { branch: string } | { tag: string } | { semver: string } | { commit: string };

export interface GitOrigin {
  url: string;
  /** Default: the branch the remote's HEAD names. */
  ref?: GitRef;
}

export type Transport = 'https' | 'ssh' | 'http' | 'git' | 'file';

type Checked<T> = ({ ok: true } & T) | { ok: false; message: string };

const SCHEMES: Record<string, Transport> = {
  https: 'https',
  ssh: 'ssh',
  'git+ssh': 'ssh',
  'ssh+git': 'ssh',
  http: 'http',
  git: 'git',
  file: 'file',
};
const SCP_LIKE = /^(?:[^@/:\s]+@)?([^/:\s]+):(?!\/\/)(.+)$/;

function urlTransport(url: string): Checked<{ transport: Transport }> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    const transport = SCHEMES[scheme];
    if (transport === undefined) return { ok: false, message: `${scheme}:// URLs are not supported (use https or ssh)` };
    if (transport === 'file') return { ok: true, transport };
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { ok: false, message: 'is not a valid URL' };
    }
    if (parsed.hostname === '' || parsed.hostname.startsWith('-')) return { ok: false, message: 'has no valid host' };
    if (parsed.password !== '') return { ok: false, message: 'holds a password: put credentials in the secretRef Secret, not in the URL' };
    return { ok: true, transport };
  }
  if (/^[a-z0-9+.-]+::/i.test(url)) return { ok: false, message: 'names a git remote helper, which the hub never runs' };
  const scp = SCP_LIKE.exec(url);
  if (scp && !(scp[1] ?? '').startsWith('-')) return { ok: true, transport: 'ssh' };
  return { ok: true, transport: 'file' };
}

/** The transport a URL uses, or why the hub refuses to fetch it (the message follows `url`). */
export function gitTransport(url: string, policy: OriginPolicy): Checked<{ transport: Transport }> {
  // eslint-disable-next-line no-control-regex
  if (url === '' || url.startsWith('-') || /[\s\x00-\x1f]/.test(url))
    return { ok: false, message: 'is empty, starts with "-" or holds spaces' };
  const checked = urlTransport(url);
  if (!checked.ok) return checked;
  if (checked.transport === 'file' && !policy.allowLocal)
    return {
      ok: false,
      message: 'is a local path or file:// URL, which the hub fetches only with --allow-local-sources (tests): use https or ssh',
    };
  if ((checked.transport === 'http' || checked.transport === 'git') && !policy.allowInsecure)
    return {
      ok: false,
      message: `uses ${checked.transport}://, which nothing secures (the hub fetches it only with --allow-insecure-sources, for tests): use https or ssh`,
    };
  return checked;
}

/** GIT_ALLOW_PROTOCOL for a policy: the transports git itself may use, redirects and submodules included. */
export function allowedProtocols(policy: OriginPolicy): string {
  return ['https', 'ssh', ...(policy.allowInsecure ? ['http', 'git'] : []), ...(policy.allowLocal ? ['file'] : [])].join(':');
}

/** Why a ref cannot be resolved at all (before asking the remote), or undefined. */
export function refProblem(ref: GitRef | undefined): string | undefined {
  if (ref === undefined) return undefined;
  if ('commit' in ref && !/^[0-9a-f]{40}$/i.test(ref.commit))
    return `ref.commit ${JSON.stringify(ref.commit)} is not a full SHA-1 (40 hex digits)`;
  if ('semver' in ref && semver.validRange(ref.semver) === null) return `ref.semver ${JSON.stringify(ref.semver)} is not a semver range`;
  return undefined;
}

export interface RemoteRefs {
  /** What HEAD points at, e.g. `refs/heads/main`, when the remote says. */
  head?: string;
  /** Ref name → the commit it names (annotated tags peeled). */
  commits: ReadonlyMap<string, string>;
}

/** Reads `git ls-remote --symref` output. */
export function parseLsRemote(stdout: string): RemoteRefs {
  const commits = new Map<string, string>();
  let head: string | undefined;
  for (const line of stdout.split('\n')) {
    const symref = /^ref: (\S+)\tHEAD$/.exec(line);
    if (symref) {
      head = symref[1];
      continue;
    }
    const match = /^([0-9a-f]{40})\t(\S+)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    const [, sha, name] = match;
    // `refs/tags/v1^{}` is the commit an annotated tag points to: it wins over the tag object.
    if (name.endsWith('^{}')) commits.set(name.slice(0, -3), sha);
    else if (!commits.has(name)) commits.set(name, sha);
  }
  return head === undefined ? { commits } : { head, commits };
}

/** What a ref resolved to: the commit, and the revision as Flux prints it (`main@sha1:…`). */
export type ResolvedRef = Checked<{ commit: string; revision: string }>;

function named(name: string, commit: string): ResolvedRef {
  return { ok: true, commit, revision: `${name}@sha1:${commit}` };
}

function highestTag(refs: RemoteRefs, range: string): ResolvedRef {
  const tags = new Map<string, string>();
  for (const name of [...refs.commits.keys()].sort()) {
    if (!name.startsWith('refs/tags/')) continue;
    const tag = name.slice('refs/tags/'.length);
    const version = semver.valid(tag);
    if (version !== null && !tags.has(version)) tags.set(version, tag);
  }
  const best = semver.maxSatisfying([...tags.keys()], range);
  const tag = best === null ? undefined : tags.get(best);
  if (tag === undefined) return { ok: false, message: `no tag matches the semver range ${JSON.stringify(range)}` };
  return named(tag, refs.commits.get(`refs/tags/${tag}`) ?? '');
}

/** Resolves a ref against what the remote lists (pure: the remote was asked already). */
export function resolveRef(refs: RemoteRefs, ref: GitRef | undefined): ResolvedRef {
  if (ref === undefined) {
    const head = refs.commits.get('HEAD');
    if (head === undefined) return { ok: false, message: 'the repository has no HEAD (is it empty?)' };
    const branch = refs.head?.startsWith('refs/heads/') === true ? refs.head.slice('refs/heads/'.length) : 'HEAD';
    return named(branch, head);
  }
  if ('commit' in ref) return { ok: true, commit: ref.commit.toLowerCase(), revision: `sha1:${ref.commit.toLowerCase()}` };
  if ('semver' in ref) return highestTag(refs, ref.semver);
  const [kind, name, prefix] = 'branch' in ref ? ['branch', ref.branch, 'refs/heads/'] : ['tag', ref.tag, 'refs/tags/'];
  const commit = refs.commits.get(`${prefix}${name}`);
  return commit === undefined ? { ok: false, message: `${kind} ${JSON.stringify(name)} does not exist` } : named(name, commit);
}

/** `git -c` settings as environment variables (GIT_CONFIG_COUNT/KEY_n/VALUE_n), never as argv. */
export function gitConfigEnvironment(settings: readonly (readonly [string, string])[]): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(settings.length) };
  settings.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

/** Why credentials do not fit a transport, or undefined. */
export function credentialsProblem(credentials: OriginCredentials, transport: Transport): string | undefined {
  const basic = credentials.username !== undefined || credentials.password !== undefined;
  if (basic && (credentials.username === undefined || credentials.password === undefined))
    return 'basic auth needs both username and password';
  if (basic && credentials.bearerToken !== undefined) return 'give either username and password or bearerToken, not both';
  const ssh = credentials.sshPrivateKey !== undefined || credentials.knownHosts !== undefined;
  if (transport === 'ssh' && credentials.knownHosts === undefined)
    return 'an ssh URL needs known_hosts: the hub checks the server host key';
  if (transport === 'ssh' && (basic || credentials.bearerToken !== undefined))
    return 'an ssh URL takes an SSH private key, not a password or token';
  if (transport !== 'ssh' && ssh) return 'an SSH private key and known_hosts apply to ssh URLs only';
  return undefined;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** GIT_SSH_COMMAND: only the given key and known_hosts count, and nothing of the hub's ssh setup. */
export function sshCommand(files: { identity?: string; knownHosts: string }): string {
  return [
    'ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none -o StrictHostKeyChecking=yes',
    `-o UserKnownHostsFile=${shellQuote(files.knownHosts)} -o GlobalKnownHostsFile=/dev/null`,
    ...(files.identity === undefined ? [] : [`-i ${shellQuote(files.identity)}`]),
  ].join(' ');
}

export interface GitAccess {
  env: Record<string, string>;
  /** What to scrub from any message of the run. */
  secrets: string[];
}

const withNewline = (text: string): string => (text.endsWith('\n') ? text : `${text}\n`);

/** The environment (and 0600 files in `scratch`) that hands credentials to git for one URL. */
export async function gitAccess(url: string, credentials: OriginCredentials, transport: Transport, scratch: string): Promise<GitAccess> {
  const settings: [string, string][] = [];
  const env: Record<string, string> = {};
  const secrets = [credentials.password, credentials.bearerToken, credentials.sshPrivateKey].filter((s): s is string => s !== undefined);
  if (credentials.username !== undefined && credentials.password !== undefined) {
    const basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    settings.push([`http.${url}.extraHeader`, `Authorization: Basic ${basic}`]);
    secrets.push(basic);
  }
  if (credentials.bearerToken !== undefined) settings.push([`http.${url}.extraHeader`, `Authorization: Bearer ${credentials.bearerToken}`]);
  if (credentials.caCert !== undefined) settings.push(['http.sslCAInfo', await writePrivateFile(scratch, 'ca.crt', credentials.caCert)]);
  if (transport === 'ssh') {
    const knownHosts = await writePrivateFile(scratch, 'known_hosts', withNewline(credentials.knownHosts ?? ''));
    const identity =
      credentials.sshPrivateKey === undefined
        ? undefined
        : await writePrivateFile(scratch, 'identity', withNewline(credentials.sshPrivateKey));
    env.GIT_SSH_COMMAND = sshCommand(identity === undefined ? { knownHosts } : { identity, knownHosts });
    env.GIT_SSH_VARIANT = 'ssh';
  }
  return { env: { ...env, ...gitConfigEnvironment(settings) }, secrets };
}

export interface GitFetchContext {
  runner: ToolRunner;
  store: ArtifactStore;
  policy: OriginPolicy;
  signal?: AbortSignal;
}

export interface FetchedTree {
  /** `main@sha1:…`, `v1.2.3@sha1:…` or `sha1:…`. */
  revision: string;
  commit: string;
  /** The commit's root tree object id: equal content, equal id, whatever the commit message. */
  tree: string;
  /** The checked-out tree on disk (read-only by convention: renders never write into it). */
  dir: string;
  /** The store key, for holding the entry. */
  storeKey: string;
}

interface TreeMeta {
  commit: string;
  tree: string;
}

const TREE = 'tree';
const META = 'meta.json';

class GitFailure extends Error {}

type GitRun = (args: string[]) => Promise<string>;

// git sends the Secret's credentials as a header, so when the server refuses them (401) it knows of
// no credentials it tried and asks for a user name instead, which it may not: its message
// ("could not read Username …: terminal prompts disabled") would send the user looking for a
// missing user name. Only a 401 makes git ask.
const PROMPT_REFUSED = /could not read (?:Username|Password) for '([^']*)': terminal prompts disabled/;

/** git's failure message as the user can act on it: a 401 said as one, whether credentials were sent or not. */
export function explainGitFailure(message: string, sentCredentials: boolean): string {
  const asked = PROMPT_REFUSED.exec(message);
  if (!asked) return message;
  const url = asked[1] ?? '';
  return sentCredentials
    ? `authentication failed for ${url}: the server refused the credentials of the secretRef Secret (HTTP 401)`
    : `${url} requires authentication (HTTP 401): set spec.source.git.secretRef to a Secret with its credentials`;
}

function gitRunner(context: GitFetchContext, scratch: string, access: GitAccess, sentCredentials: boolean): GitRun {
  const env = { ...access.env, GIT_ALLOW_PROTOCOL: allowedProtocols(context.policy) };
  return async (args) => {
    const result = await context.runner.run({
      tool: 'git',
      args,
      scratch,
      env,
      secrets: access.secrets,
      ...(context.signal ? { signal: context.signal } : {}),
    });
    if (!result.ok) throw new GitFailure(explainGitFailure(result.failure.message, sentCredentials));
    return result.stdout;
  };
}

/** Fetches one commit, depth 1, into `dir/tree` (the store's staging folder), refusing escaping links. */
async function checkoutCommit(url: string, commit: string, dir: string, scratch: string, run: GitRun): Promise<void> {
  const gitDir = path.join(scratch, 'repository.git');
  const work = path.join(dir, TREE);
  await mkdir(work);
  await run(['init', '--quiet', '--bare', gitDir]);
  await run(['--git-dir', gitDir, 'fetch', '--quiet', '--depth', '1', '--no-tags', '--no-write-fetch-head', '--', url, commit]);
  const tree = (await run(['--git-dir', gitDir, 'rev-parse', '--verify', `${commit}^{tree}`])).trim();
  await run(['--git-dir', gitDir, '--work-tree', work, 'read-tree', '--reset', '-u', commit]);
  const outside = await linksOutOfTree(work);
  if (outside.length > 0) throw new GitFailure(`the repository holds symbolic links that point outside it: ${outside.join(', ')}`);
  const meta: TreeMeta = { commit, tree };
  await writeFile(path.join(dir, META), JSON.stringify(meta));
}

/** Resolves the origin's ref and makes sure that commit's tree is in the store. */
export async function fetchGitTree(
  origin: GitOrigin,
  credentials: OriginCredentials,
  context: GitFetchContext,
  scratch: string,
): Promise<Checked<FetchedTree>> {
  const transport = gitTransport(origin.url, context.policy);
  if (!transport.ok) return { ok: false, message: `url ${JSON.stringify(origin.url)} ${transport.message}` };
  const problem = refProblem(origin.ref) ?? credentialsProblem(credentials, transport.transport);
  if (problem !== undefined) return { ok: false, message: problem };
  const access = await gitAccess(origin.url, credentials, transport.transport, scratch);
  const run = gitRunner(context, scratch, access, credentials.password !== undefined || credentials.bearerToken !== undefined);
  try {
    const listed = await run(['ls-remote', '--symref', '--', origin.url, 'HEAD', 'refs/heads/*', 'refs/tags/*']);
    const resolved = resolveRef(parseLsRemote(listed), origin.ref);
    if (!resolved.ok) return { ok: false, message: `${resolved.message} in ${origin.url}` };
    const storeKey = `git\n${origin.url}\n${resolved.commit}`;
    const dir = await context.store.ensure(storeKey, (staging) => checkoutCommit(origin.url, resolved.commit, staging, scratch, run));
    const meta = JSON.parse(await readFile(path.join(dir, META), 'utf8')) as TreeMeta;
    return { ok: true, revision: resolved.revision, commit: resolved.commit, tree: meta.tree, dir: path.join(dir, TREE), storeKey };
  } catch (error) {
    if (error instanceof GitFailure) return { ok: false, message: error.message };
    throw error;
  }
}
