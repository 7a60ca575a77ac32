import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  credentialsProblem,
  fetchGitTree,
  explainGitFailure,
  gitAccess,
  gitConfigEnvironment,
  gitTransport,
  parseLsRemote,
  refProblem,
  resolveRef,
  type GitFetchContext,
  type GitOrigin,
  type GitRef,
  type RemoteRefs,
} from './git.js';
import { createArtifactStore } from './store.js';
import { testRepositories, type TestRepositories, type TestRepository } from './testdata/repos.js';
import { testToolPaths } from './testdata/tools.js';
import { createToolRunner, withScratchDir, type ToolRunner } from './tool.js';
import type { OriginCredentials, OriginPolicy } from './types.js';

const production: OriginPolicy = { allowLocal: false, allowInsecure: false };
const tests: OriginPolicy = { allowLocal: true, allowInsecure: true };

describe('gitTransport', () => {
  it.each<[string, string, OriginPolicy, string]>([
    ['https', 'https://git.example.com/team/app.git', production, 'https'],
    ['ssh://', 'ssh://git@git.example.com:2222/team/app.git', production, 'ssh'],
    ['scp-like', 'git@github.com:team/app.git', production, 'ssh'],
    ['scp-like without a user', 'github.com:team/app.git', production, 'ssh'],
    ['http with plaintext allowed', 'http://127.0.0.1:8080/app.git', tests, 'http'],
    ['git:// with plaintext allowed', 'git://127.0.0.1/app.git', tests, 'git'],
    ['file:// with local allowed', 'file:///srv/app.git', tests, 'file'],
    ['a path with local allowed', '/srv/app.git', tests, 'file'],
  ])('accepts %s', (_name, url, policy, transport) => {
    expect(gitTransport(url, policy)).toEqual({ ok: true, transport });
  });

  it.each<[string, string, OriginPolicy, string]>([
    ['file://', 'file:///srv/app.git', production, 'is a local path or file:// URL'],
    ['an absolute path', '/var/run/secrets', production, 'is a local path'],
    ['a relative path', '../other-tenant', production, 'is a local path'],
    ['http://', 'http://git.example.com/app.git', production, 'uses http://, which nothing secures'],
    ['git://', 'git://git.example.com/app.git', production, 'uses git://'],
    ['ext:: (runs a command)', 'ext::sh -c touch% /tmp/pwned', tests, 'holds spaces'],
    ['a remote helper', 'fd::17', tests, 'names a git remote helper'],
    ['an unknown scheme', 'ftp://host/app.git', tests, 'ftp:// URLs are not supported'],
    ['an option', '--upload-pack=touch /tmp/x', tests, 'starts with "-"'],
    ['a host that is an option', 'ssh://-oProxyCommand=x/app', tests, 'has no valid host'],
    ['a password in the URL', 'https://user:hunter2@git.example.com/app.git', production, 'holds a password'],
    ['a newline', 'https://git.example.com/a\nb', production, 'holds spaces'],
  ])('refuses %s', (_name, url, policy, message) => {
    const result = gitTransport(url, policy);
    expect(result.ok ? '' : result.message).toContain(message);
  });
});

describe('refProblem', () => {
  it.each<[GitRef | undefined, string | undefined]>([
    [undefined, undefined],
    [{ branch: 'main' }, undefined],
    [{ tag: 'v1' }, undefined],
    [{ semver: '>=1.2.0 <2' }, undefined],
    [{ semver: 'not a range' }, 'ref.semver "not a range" is not a semver range'],
    [{ commit: 'a'.repeat(40) }, undefined],
    [{ commit: 'abc123' }, 'ref.commit "abc123" is not a full SHA-1 (40 hex digits)'],
  ])('%j → %s', (ref, problem) => {
    expect(refProblem(ref)).toBe(problem);
  });
});

const sha = (digit: string): string => digit.repeat(40);

describe('parseLsRemote and resolveRef', () => {
  const listed = [
    'ref: refs/heads/trunk\tHEAD',
    `${sha('1')}\tHEAD`,
    `${sha('1')}\trefs/heads/trunk`,
    `${sha('2')}\trefs/heads/feature/x`,
    `${sha('a')}\trefs/tags/v1.0.0`,
    `${sha('3')}\trefs/tags/v1.0.0^{}`,
    `${sha('4')}\trefs/tags/v1.2.0`,
    `${sha('5')}\trefs/tags/v2.0.0`,
    `${sha('6')}\trefs/tags/v1.3.0-rc.1`,
    `${sha('7')}\trefs/tags/chart-9.9.9`,
    '',
  ].join('\n');
  const refs: RemoteRefs = parseLsRemote(listed);

  it('reads HEAD, branches and peels annotated tags', () => {
    expect(refs.head).toBe('refs/heads/trunk');
    expect(refs.commits.get('refs/tags/v1.0.0')).toBe(sha('3'));
    expect(refs.commits.get('refs/heads/feature/x')).toBe(sha('2'));
  });

  it.each<[string, GitRef | undefined, string]>([
    ["the remote's default branch", undefined, `trunk@sha1:${sha('1')}`],
    ['a branch with a slash', { branch: 'feature/x' }, `feature/x@sha1:${sha('2')}`],
    ['an annotated tag, to its commit', { tag: 'v1.0.0' }, `v1.0.0@sha1:${sha('3')}`],
    ['the highest tag in a range', { semver: '^1.0.0' }, `v1.2.0@sha1:${sha('4')}`],
    ['a prerelease only when the range asks', { semver: '>=1.3.0-rc.0 <2' }, `v1.3.0-rc.1@sha1:${sha('6')}`],
    ['any version', { semver: '*' }, `v2.0.0@sha1:${sha('5')}`],
    ['a commit, as given', { commit: sha('B') }, `sha1:${sha('b')}`],
  ])('resolves %s', (_name, ref, revision) => {
    const resolved = resolveRef(refs, ref);
    expect(resolved.ok && resolved.revision).toBe(revision);
  });

  it.each<[GitRef, string]>([
    [{ branch: 'nope' }, 'branch "nope" does not exist'],
    [{ tag: 'v9' }, 'tag "v9" does not exist'],
    [{ semver: '^3' }, 'no tag matches the semver range "^3"'],
  ])('says when %j does not exist', (ref, message) => {
    expect(resolveRef(refs, ref)).toEqual({ ok: false, message });
  });

  it('says when the repository is empty', () => {
    expect(resolveRef(parseLsRemote(''), undefined)).toEqual({ ok: false, message: 'the repository has no HEAD (is it empty?)' });
  });
});

describe('credentials', () => {
  it.each<[OriginCredentials, 'https' | 'ssh', string | undefined]>([
    [{}, 'https', undefined],
    [{ username: 'robot', password: 'x' }, 'https', undefined],
    [{ bearerToken: 't' }, 'https', undefined],
    [{ username: 'robot' }, 'https', 'basic auth needs both username and password'],
    [{ username: 'robot', password: 'x', bearerToken: 't' }, 'https', 'give either username and password or bearerToken, not both'],
    [{ sshPrivateKey: 'k', knownHosts: 'h' }, 'https', 'an SSH private key and known_hosts apply to ssh URLs only'],
    [{ sshPrivateKey: 'k', knownHosts: 'h' }, 'ssh', undefined],
    [{ sshPrivateKey: 'k' }, 'ssh', 'an ssh URL needs known_hosts: the hub checks the server host key'],
    [{ password: 'x', username: 'u', knownHosts: 'h' }, 'ssh', 'an ssh URL takes an SSH private key, not a password or token'],
  ])('%j over %s → %s', (credentials, transport, problem) => {
    expect(credentialsProblem(credentials, transport)).toBe(problem);
  });

  it('passes git settings through the environment, numbered', () => {
    expect(
      gitConfigEnvironment([
        ['http.sslCAInfo', '/tmp/ca'],
        ['a.b', 'c'],
      ]),
    ).toEqual({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'http.sslCAInfo',
      GIT_CONFIG_VALUE_0: '/tmp/ca',
      GIT_CONFIG_KEY_1: 'a.b',
      GIT_CONFIG_VALUE_1: 'c',
    });
  });

  it('hands basic auth to git as a header for the origin URL only, never in argv, and names what to scrub', async () => {
    await withScratchDir(async (scratch) => {
      const access = await gitAccess(
        'https://git.example/app.git',
        { username: 'robot', password: 'hunter2', caCert: 'PEM' },
        'https',
        scratch,
      );
      expect(access.env).toMatchObject({
        GIT_CONFIG_KEY_0: 'http.https://git.example/app.git.extraHeader',
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from('robot:hunter2').toString('base64')}`,
        GIT_CONFIG_KEY_1: 'http.sslCAInfo',
      });
      expect(access.secrets).toContain('hunter2');
      const ca = access.env.GIT_CONFIG_VALUE_1 ?? '';
      expect(path.dirname(ca)).toBe(scratch);
      expect((await stat(ca)).mode & 0o777).toBe(0o600);
    });
  });

  it('makes the real ssh trust only the given known_hosts and key, and ignore every ssh config', async () => {
    await withScratchDir(async (scratch) => {
      const access = await gitAccess(
        'git@git.example:app.git',
        { sshPrivateKey: 'KEY', knownHosts: 'git.example ssh-ed25519 AAAA' },
        'ssh',
        scratch,
      );
      const command = access.env.GIT_SSH_COMMAND ?? '';
      // What ssh itself makes of the command line git will run (`-G` prints the settings and exits).
      const { stdout } = await promisify(execFile)('sh', ['-c', `${command} -G git.example`], {
        env: { PATH: process.env.PATH ?? '', HOME: scratch },
      });
      const settings = stdout.split('\n');
      expect(settings).toEqual(
        expect.arrayContaining([
          'batchmode yes',
          'identitiesonly yes',
          'stricthostkeychecking true',
          `userknownhostsfile ${path.join(scratch, 'known_hosts')}`,
          'globalknownhostsfile /dev/null',
          `identityfile ${path.join(scratch, 'identity')}`,
          'identityagent none',
        ]),
      );
      expect(await readFile(path.join(scratch, 'identity'), 'utf8')).toBe('KEY\n');
      expect((await stat(path.join(scratch, 'identity'))).mode & 0o777).toBe(0o600);
    });
  });
});

describe('explainGitFailure', () => {
  const prompt = "fatal: could not read Username for 'https://git.example': terminal prompts disabled";
  it.each<[string, string, boolean, string]>([
    [
      'credentials sent and refused',
      prompt,
      true,
      'authentication failed for https://git.example: the server refused the credentials of the secretRef Secret (HTTP 401)',
    ],
    [
      'a password asked for',
      "fatal: could not read Password for 'https://robot@git.example': terminal prompts disabled",
      true,
      'authentication failed for https://robot@git.example: the server refused the credentials of the secretRef Secret (HTTP 401)',
    ],
    [
      'no credentials given',
      prompt,
      false,
      'https://git.example requires authentication (HTTP 401): set spec.source.git.secretRef to a Secret with its credentials',
    ],
    [
      'any other failure, as git said it',
      "fatal: unable to access 'https://git.example/app.git/': The requested URL returned error: 503",
      true,
      "fatal: unable to access 'https://git.example/app.git/': The requested URL returned error: 503",
    ],
  ])('%s', (_name, message, sent, explained) => {
    expect(explainGitFailure(message, sent)).toBe(explained);
  });
});

describe('fetchGitTree with the real git', () => {
  let repos: TestRepositories;
  let repo: TestRepository;
  let runner: ToolRunner;
  let context: GitFetchContext;
  const commits: Record<string, string> = {};

  beforeAll(async () => {
    repos = await testRepositories();
    repo = await repos.create('app', { branch: 'trunk' });
    commits.first = await repo.commit('first', { 'deploy/cm.yaml': 'kind: ConfigMap\n', 'README.md': 'one' });
    await repo.git('tag', '-a', '-m', 'release', 'v1.0.0');
    commits.second = await repo.commit('second', { 'deploy/cm.yaml': 'kind: ConfigMap # 2\n' });
    await repo.git('tag', 'v1.2.0');
    commits.third = await repo.commit('third', { 'deploy/more.yaml': 'kind: Secret\n' });
    await repo.git('tag', 'v2.0.0');
    runner = createToolRunner(await testToolPaths());
    context = { runner, store: await createArtifactStore(await repos.folder('store'), { spare: 10 }), policy: tests };
  });
  afterAll(async () => {
    await repos.remove();
  });

  const fetch = (origin: GitOrigin, credentials: OriginCredentials = {}, inContext: GitFetchContext = context) =>
    withScratchDir((scratch) => fetchGitTree(origin, credentials, inContext, scratch));

  it.each<[string, GitRef | undefined, string, string]>([
    ["the remote's default branch", undefined, 'trunk', 'third'],
    ['a branch', { branch: 'trunk' }, 'trunk', 'third'],
    ['an annotated tag', { tag: 'v1.0.0' }, 'v1.0.0', 'first'],
    ['the highest tag of a range', { semver: '~1.0 || ^1.1' }, 'v1.2.0', 'second'],
  ])('fetches %s and reports its revision', async (_name, ref, name, commit) => {
    const result = await fetch(ref === undefined ? { url: repo.dir } : { url: repo.dir, ref });
    expect(result.ok && result.revision).toBe(`${name}@sha1:${commits[commit]}`);
  });

  it('fetches a pinned commit that no branch or tag points at any more, through a file:// URL', async () => {
    const result = await fetch({ url: `file://${repo.dir}`, ref: { commit: commits.first ?? '' } });
    if (!result.ok) throw new Error(result.message);
    expect(result.revision).toBe(`sha1:${commits.first}`);
    expect(await readFile(path.join(result.dir, 'deploy/cm.yaml'), 'utf8')).toBe('kind: ConfigMap\n');
    expect((await readdir(result.dir)).sort()).toEqual(['README.md', 'deploy']);
  });

  it('checks out exactly the commit: its files, no .git folder, and the root tree id', async () => {
    const result = await fetch({ url: repo.dir, ref: { tag: 'v2.0.0' } });
    if (!result.ok) throw new Error(result.message);
    expect((await readdir(path.join(result.dir, 'deploy'))).sort()).toEqual(['cm.yaml', 'more.yaml']);
    expect(result.tree).toBe((await repo.git('rev-parse', 'v2.0.0^{tree}')).trim());
  });

  it('does nothing but ls-remote when the revision is already fetched, and fetches once for concurrent polls', async () => {
    const fresh: GitFetchContext = {
      ...context,
      runner: createToolRunner(await testToolPaths()),
      store: await createArtifactStore(await repos.folder('fresh-store'), { spare: 10 }),
    };
    const results = await Promise.all([1, 2, 3].map(() => fetch({ url: repo.dir, ref: { branch: 'trunk' } }, {}, fresh)));
    expect(new Set(results.map((result) => result.ok && result.dir)).size).toBe(1);
    // 3 ls-remote, and one init, fetch, rev-parse and read-tree between them.
    expect(fresh.runner.invocations('git')).toBe(7);
    const again = await fetch({ url: repo.dir, ref: { branch: 'trunk' } }, {}, fresh);
    expect(again.ok).toBe(true);
    expect(fresh.runner.invocations('git')).toBe(8);
  });

  it('finds a new commit on the next poll, and the same tree id for a commit that changes nothing', async () => {
    const other = await repos.create('moving');
    await other.commit('one', { 'a.yaml': 'a: 1\n' });
    const before = await fetch({ url: other.dir });
    const emptyCommit = await other.commit('only a message', {});
    const after = await fetch({ url: other.dir });
    if (!before.ok || !after.ok) throw new Error('fetch failed');
    expect(after.revision).toBe(`main@sha1:${emptyCommit}`);
    expect(after.revision).not.toBe(before.revision);
    expect(after.tree).toBe(before.tree);
  });

  it.each<[string, GitOrigin, string]>([
    ['a branch that does not exist', { url: '', ref: { branch: 'nope' } }, 'branch "nope" does not exist in '],
    [
      'a repository that does not exist',
      { url: '/nonexistent/repository' },
      "fatal: '/nonexistent/repository' does not appear to be a git repository",
    ],
    ['an invalid ref', { url: '', ref: { commit: '123' } }, 'ref.commit "123" is not a full SHA-1'],
  ])('reports %s', async (_name, origin, message) => {
    const result = await fetch({ ...origin, url: origin.url === '' ? repo.dir : origin.url });
    expect(result.ok ? '' : result.message).toContain(message);
  });

  it('refuses a local repository when the hub does not allow local origins, before running git', async () => {
    const strict: GitFetchContext = { ...context, runner: createToolRunner(await testToolPaths()), policy: production };
    const result = await fetch({ url: repo.dir }, {}, strict);
    expect(result).toEqual({
      ok: false,
      message: `url ${JSON.stringify(repo.dir)} is a local path or file:// URL, which the hub fetches only with --allow-local-sources (tests): use https or ssh`,
    });
    expect(strict.runner.invocations('git')).toBe(0);
  });

  it('refuses a commit whose symbolic links lead out of the repository, and keeps nothing of it', async () => {
    const evil = await repos.create('evil');
    await evil.commit('links', {
      'ok.yaml': { symlinkTo: 'deploy/real.yaml' },
      'deploy/real.yaml': 'a: 1\n',
      up: { symlinkTo: '../..' },
      token: { symlinkTo: '/var/run/secrets/kubernetes.io/serviceaccount/token' },
    });
    const size = context.store.size;
    const result = await fetch({ url: evil.dir });
    expect(result).toEqual({
      ok: false,
      message:
        'the repository holds symbolic links that point outside it: token -> /var/run/secrets/kubernetes.io/serviceaccount/token, up -> ../..',
    });
    expect(context.store.size).toBe(size);
  });
});
