// The loopback Git server, driven by the system's git as a user (and the hub) would drive it:
// a clone with the password over TLS from the test CA works and has the committed files; without
// the password, with a wrong one, or without trusting the CA it is refused; new commits and tags
// are seen by a fetch; any commit of the history can be fetched by its SHA-1; a server taken down
// answers 503. Over SSH, a clone with the client key and the known host key works; an unknown key,
// another host key, and anything but git (a shell command) are refused.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sshCommand } from '../../src/hub/origin/git.js';
import { type GitRepository, type GitServer, startGitServer } from './git-server.js';
import type { SSHFront } from './ssh-server.js';
import { gitEnvironment, runTool, runToolOk, temporaryDirectory } from './tools.js';

let server: GitServer;
let repository: GitRepository;
let scratch: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  server = await startGitServer();
  scratch = await temporaryDirectory('git-e2e');
  repository = await server.createRepository('manifests', { files: { 'app/config.yaml': 'replicas: 1\n' } });
});

afterAll(async () => {
  await server.close();
  await scratch.remove();
});

/** The repository URL with credentials in it, as `git clone https://user:password@host/…` takes them. */
function withCredentials(url: string, password = server.credentials.password): string {
  const withAuth = new URL(url);
  withAuth.username = server.credentials.username;
  withAuth.password = password;
  return withAuth.toString();
}

const trusting = () => ({ ...gitEnvironment(scratch.path), GIT_SSL_CAINFO: server.tls.caFile });

describe('the loopback Git server', () => {
  it('serves a clone with the password over TLS, with the committed files', async () => {
    const target = join(scratch.path, 'clone');
    await runToolOk('git', ['clone', '--quiet', withCredentials(repository.url), target], { env: trusting() });
    expect(await readFile(join(target, 'app', 'config.yaml'), 'utf8')).toBe('replicas: 1\n');
  });

  it('refuses a clone without the password or with a wrong one', async () => {
    const anonymous = await runTool('git', ['clone', repository.url, join(scratch.path, 'anonymous')], { env: trusting() });
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/could not read Username|Authentication failed/);
    const wrong = await runTool('git', ['clone', withCredentials(repository.url, 'not-the-password'), join(scratch.path, 'wrong')], {
      env: trusting(),
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('Authentication failed');
    expect(server.requests.filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(2);
  });

  it('is not trusted without the test CA', async () => {
    const untrusted = await runTool('git', ['clone', withCredentials(repository.url), join(scratch.path, 'untrusted')], {
      env: gitEnvironment(scratch.path),
    });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/certificate|SSL/i);
  });

  it('shows new commits and tags to a fetch, and serves an earlier commit by its SHA-1', async () => {
    const first = (await runToolOk('git', ['ls-remote', withCredentials(repository.url), 'refs/heads/main'], { env: trusting() })).split(
      '\t',
    )[0];
    const second = await repository.commit('two replicas', { files: { 'app/config.yaml': 'replicas: 2\n' } });
    const tagged = await repository.tag('v1.0.0');
    expect(tagged).toBe(second);
    const refs = await runToolOk('git', ['ls-remote', withCredentials(repository.url)], { env: trusting() });
    expect(refs).toContain(`${second}\trefs/heads/main`);
    expect(refs).toContain(`${second}\trefs/tags/v1.0.0^{}`);

    const fetcher = join(scratch.path, 'by-sha');
    await runToolOk('git', ['init', '--quiet', fetcher], { env: trusting() });
    await runToolOk('git', ['-C', fetcher, 'fetch', '--quiet', '--depth', '1', withCredentials(repository.url), first ?? ''], {
      env: trusting(),
    });
    expect(await runToolOk('git', ['-C', fetcher, 'show', 'FETCH_HEAD:app/config.yaml'], { env: trusting() })).toBe('replicas: 1\n');
  });

  it('replaces the whole tree from a folder, and a revert brings the earlier content back', async () => {
    const tree = join(scratch.path, 'tree');
    await mkdir(join(tree, 'base'), { recursive: true });
    await writeFile(join(tree, 'base', 'kustomization.yaml'), 'resources: []\n');
    const replaced = await repository.commit('a kustomization only', { fromDir: tree });
    await repository.git(['revert', '--no-edit', 'HEAD']);
    const reverted = await repository.push();
    const clone = join(scratch.path, 'after-revert');
    await runToolOk('git', ['clone', '--quiet', withCredentials(repository.url), clone], { env: trusting() });
    const files = async (sha: string) =>
      (await runToolOk('git', ['-C', clone, 'ls-tree', '-r', '--name-only', sha], { env: trusting() })).trim().split('\n');
    expect(await files(replaced)).toEqual(['base/kustomization.yaml']);
    expect(await files(reverted)).toEqual(['app/config.yaml']);
  });

  it('answers 503 while taken down, and serves again when brought back', async () => {
    server.setAvailable(false);
    const down = await runTool('git', ['ls-remote', withCredentials(repository.url)], { env: trusting() });
    server.setAvailable(true);
    expect(down.code).not.toBe(0);
    expect(down.stderr).toContain('503');
    await runToolOk('git', ['ls-remote', withCredentials(repository.url)], { env: trusting() });
  });

  describe('over SSH', () => {
    let front: SSHFront;
    const files = { identity: '', knownHosts: '', otherIdentity: '', otherKnownHosts: '' };
    const overSSH = (identity: string, knownHosts: string) => ({
      ...gitEnvironment(scratch.path),
      GIT_SSH_COMMAND: sshCommand({ identity, knownHosts }),
    });

    beforeAll(async () => {
      front = await server.serveSSH();
      const dir = join(scratch.path, 'ssh-client');
      await mkdir(dir);
      files.identity = join(dir, 'identity');
      files.knownHosts = join(dir, 'known_hosts');
      await writeFile(files.identity, front.identity, { mode: 0o600 });
      await writeFile(files.knownHosts, front.knownHosts);
      // A key sshd does not know, and a known_hosts line with another host key for the same address.
      files.otherIdentity = join(dir, 'other');
      await runToolOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', files.otherIdentity]);
      files.otherKnownHosts = join(dir, 'other_known_hosts');
      const otherKey = (await readFile(`${files.otherIdentity}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
      await writeFile(files.otherKnownHosts, `${front.knownHosts.split(' ')[0]} ${otherKey}\n`);
    });

    it('serves a clone with the key, checking the host key, with the same content as over HTTPS', async () => {
      const before = front.logins();
      const target = join(scratch.path, 'ssh-clone');
      await runToolOk('git', ['clone', '--quiet', front.url('manifests.git'), target], { env: overSSH(files.identity, files.knownHosts) });
      const head = await runToolOk('git', ['ls-remote', withCredentials(repository.url), 'refs/heads/main'], { env: trusting() });
      expect((await runToolOk('git', ['-C', target, 'rev-parse', 'HEAD'])).trim()).toBe(head.split('\t')[0]);
      expect(front.logins()).toBe(before + 1);
    });

    it('refuses a key it does not know, and the client refuses a host key other than the known one', async () => {
      const unknownKey = await runTool('git', ['ls-remote', front.url('manifests.git')], {
        env: overSSH(files.otherIdentity, files.knownHosts),
      });
      expect(unknownKey.code).not.toBe(0);
      expect(unknownKey.stderr).toContain('Permission denied (publickey)');
      const otherHost = await runTool('git', ['ls-remote', front.url('manifests.git')], {
        env: overSSH(files.identity, files.otherKnownHosts),
      });
      expect(otherHost.code).not.toBe(0);
      expect(otherHost.stderr).toContain('Host key verification failed');
    });

    it('lets the key run git and nothing else', async () => {
      const login = ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${files.knownHosts}`, '-i', files.identity];
      const shell = await runTool('ssh', [...login, '-p', portOf(front), `${userOf(front)}@127.0.0.1`, 'id'], {
        env: gitEnvironment(scratch.path),
      });
      expect(shell.code).not.toBe(0);
      expect(shell.stdout).not.toContain('uid=');
      expect(shell.stderr).toContain('unrecognized command');
    });
  });
});

const portOf = (front: SSHFront): string => new URL(front.url('x')).port;
const userOf = (front: SSHFront): string => new URL(front.url('x')).username;
