// Git over SSH for e2e tests: Debian's OpenSSH server (`make` installs openssh-server when it is
// missing) on a loopback port, with its own host key, accepting one client key whose every login is
// forced through `git-shell`, so the key can fetch and push repositories and do nothing else, as on
// a real Git host. The private key and the known_hosts line are what a user puts in a Secret.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { repoRoot } from './testenv.js';
import { freeLoopbackPort, runToolOk } from './tools.js';

const SSHD = '/usr/sbin/sshd';

export interface SSHFront {
  /** `ssh://USER@127.0.0.1:PORT/ABSOLUTE/PATH` of a bare repository under the served root. */
  url(repository: string): string;
  /** The OpenSSH private key sshd accepts (PEM text, as in a Secret's `identity`). */
  identity: string;
  /** The server's host key line for `[127.0.0.1]:PORT`, as in a Secret's `known_hosts`. */
  knownHosts: string;
  /** The successful logins sshd logged so far. */
  logins(): number;
  stop(): Promise<void>;
}

/** Starts sshd serving the bare repositories under `root`, with its keys and config in `dir`. */
export async function startSSHFront(root: string, dir: string): Promise<SSHFront> {
  await mkdir(dir, { recursive: true });
  // sshd refuses to start without its privilege separation directory, which Debian creates only at boot.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKey = join(dir, 'client_ed25519');
  await runToolOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'flotilla-e2e-host', '-f', hostKey]);
  await runToolOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'flotilla-e2e-client', '-f', clientKey]);
  const clientPublic = (await readFile(`${clientKey}.pub`, 'utf8')).trim();
  await writeFile(join(dir, 'authorized_keys'), `command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"",restrict ${clientPublic}\n`, {
    mode: 0o600,
  });
  const user = userInfo().username;
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    await writeFile(join(dir, 'sshd_config'), sshdConfig({ dir, hostKey, port, user }));
    try {
      const daemon = await startDaemon(join(dir, 'sshd_config'));
      const hostPublic = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
      return {
        url: (repository) => `ssh://${user}@127.0.0.1:${port}${join(root, repository)}`,
        identity: await readFile(clientKey, 'utf8'),
        knownHosts: `[127.0.0.1]:${port} ${hostPublic}\n`,
        logins: daemon.logins,
        stop: daemon.stop,
      };
    } catch (error) {
      // Another process took the port between our probe and sshd's bind: take another one.
      if (attempt < 3 && /Address already in use/.test(String(error))) continue;
      throw error;
    }
  }
}

function sshdConfig(options: { dir: string; hostKey: string; port: number; user: string }): string {
  return [
    `ListenAddress 127.0.0.1:${options.port}`,
    `HostKey ${options.hostKey}`,
    `PidFile ${join(options.dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(options.dir, 'authorized_keys')}`,
    // The keys live in a temporary folder, not in a home directory sshd would check the modes of.
    'StrictModes no',
    `AllowUsers ${options.user}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // git asks for protocol v2 through this variable, as it does over HTTPS.
    'AcceptEnv GIT_PROTOCOL',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

interface Daemon {
  logins: () => number;
  stop: () => Promise<void>;
}

/**
 * Runs sshd in the foreground under `testenv tie`, which kills it when this process ends however it
 * ends; it is listening once it logs so. Its log (stderr, with -e) counts the logins; its tail is
 * kept for the error of a failed start.
 */
async function startDaemon(config: string): Promise<Daemon> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    join(repoRoot, 'hack', 'testenv', 'testenv'),
    ['tie', '--owner-pid', String(process.pid), '--', SSHD, '-D', '-e', '-f', config],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolvePromise) =>
    child.once('exit', () => {
      resolvePromise();
    }),
  );
  let log = '';
  let partial = '';
  let logins = 0;
  await new Promise<void>((resolvePromise, reject) => {
    const onOutput = (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('Accepted publickey for ')) logins++;
        log = `${log}${line}\n`.slice(-8192);
        if (line.includes('Server listening on 127.0.0.1')) resolvePromise();
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.once('exit', (code) => {
      reject(new Error(`sshd exited (${code}) before listening: ${(log + partial).trim()}`));
    });
  });
  return {
    logins: () => logins,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
