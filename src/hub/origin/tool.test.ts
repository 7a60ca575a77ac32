import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { createToolRunner, scrub, withScratchDir, writePrivateFile, type ToolPaths } from './tool.js';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testToolPaths } from './testdata/tools.js';

let paths: ToolPaths;
beforeAll(async () => {
  paths = await testToolPaths();
});

describe('scrub', () => {
  const basic = Buffer.from('robot:s3cr3t-pa55').toString('base64');
  it.each<[string, string, string[], string]>([
    ['the secret itself', 'fatal: password s3cr3t-pa55 refused', ['s3cr3t-pa55'], 'fatal: password *** refused'],
    ['a Basic header holding it', `header: Basic ${basic}`, ['s3cr3t-pa55'], 'header: Basic cm9ib3Q6***'],
    ['its base64 alone', `token ${Buffer.from('s3cr3t-pa55').toString('base64')}`, ['s3cr3t-pa55'], 'token ***'],
    ['its URL-encoded form', 'https://host/?t=a%2Fb%3Dc', ['a/b=c'], 'https://host/?t=***'],
    [
      'URL userinfo',
      "fatal: unable to access 'https://robot:anything@git.example/x.git/'",
      [],
      "fatal: unable to access 'https://***@git.example/x.git/'",
    ],
    ['ssh userinfo', 'ssh://git@host:22/repo', [], 'ssh://***@host:22/repo'],
    [
      'a private key block',
      'key: -----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY----- end',
      [],
      'key: [private key] end',
    ],
    ['an Authorization header', '> Authorization: Bearer abc.def', [], '> Authorization: ***'],
    ['nothing when nothing is secret', 'fatal: repository not found', ['unrelated'], 'fatal: repository not found'],
  ])('removes %s', (_name, text, secrets, expected) => {
    expect(scrub(text, secrets)).toBe(expected);
  });

  it('finds a secret at every byte alignment inside a longer base64 value', () => {
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      const encoded = Buffer.from(`${prefix}:hunter2-long-secret:tail`).toString('base64');
      expect(scrub(encoded, ['hunter2-long-secret'])).toContain('***');
    }
  });
});

describe('withScratchDir and writePrivateFile', () => {
  it('gives a directory only the hub can enter, files only it can read, and removes them after', async () => {
    let seen = '';
    await withScratchDir(async (dir) => {
      seen = dir;
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      const file = await writePrivateFile(dir, 'key', 'secret');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    });
    await expect(stat(seen)).rejects.toThrow('ENOENT');
  });

  it('removes the directory when the work throws', async () => {
    let seen = '';
    await expect(
      withScratchDir((dir) => {
        seen = dir;
        return Promise.reject(new Error('boom'));
      }),
    ).rejects.toThrow('boom');
    await expect(stat(seen)).rejects.toThrow('ENOENT');
  });
});

/** A TCP server that accepts connections and never answers, as a hung Git server does. */
interface SilentServer {
  url: string;
  open: number;
  maxOpen: number;
  closed: number;
  close(): Promise<void>;
}

async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const state = { open: 0, maxOpen: 0, closed: 0 };
  const server: Server = createServer((socket) => {
    // Read (and drop) the request, or the socket never notices the other end closing.
    socket.resume();
    sockets.add(socket);
    state.open += 1;
    state.maxOpen = Math.max(state.maxOpen, state.open);
    socket.on('close', () => {
      state.open -= 1;
      state.closed += 1;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return Object.assign(state, {
    url: `http://127.0.0.1:${address.port}/repo.git`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !check(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('createToolRunner with the real git', () => {
  const original = process.env.FLOTILLA_TEST_CREDENTIAL;
  beforeEach(() => {
    process.env.FLOTILLA_TEST_CREDENTIAL = 'hub-secret-value';
  });
  afterEach(() => {
    if (original === undefined) delete process.env.FLOTILLA_TEST_CREDENTIAL;
    else process.env.FLOTILLA_TEST_CREDENTIAL = original;
  });

  it('runs git with the scratch directory as HOME and none of the hub process environment', async () => {
    const runner = createToolRunner(paths);
    const result = await withScratchDir((scratch) =>
      runner
        .run({ tool: 'git', scratch, args: ['-c', 'alias.show-env=!env', 'show-env'], env: { GIT_EXTRA: 'given' } })
        .then((r) => ({ r, scratch })),
    );
    expect(result.r.ok).toBe(true);
    const env = result.r.ok ? result.r.stdout : '';
    expect(env).toContain(`HOME=${result.scratch}\n`);
    expect(env).toContain('GIT_TERMINAL_PROMPT=0\n');
    expect(env).toContain('GIT_CONFIG_NOSYSTEM=1\n');
    expect(env).toContain('GIT_EXTRA=given\n');
    expect(env).not.toContain('hub-secret-value');
    expect(runner.invocations('git')).toBe(1);
  });

  it("reports git's own message, scrubbed, when it fails", async () => {
    const runner = createToolRunner(paths);
    const result = await withScratchDir((scratch) =>
      runner.run({ tool: 'git', scratch, args: ['ls-remote', '--', '/no/such/repository-with-s3cr3t'], secrets: ['s3cr3t'] }),
    );
    expect(result).toEqual({
      ok: false,
      failure: { kind: 'exit', message: expect.stringContaining("fatal: '/no/such/repository-with-***'") },
    });
  });

  it('kills the whole process group on timeout, including the transport git started', async () => {
    const server = await silentServer();
    try {
      const runner = createToolRunner(paths, { timeoutMs: 2000 });
      const result = await withScratchDir((scratch) => runner.run({ tool: 'git', scratch, args: ['ls-remote', '--', server.url] }));
      expect(result).toEqual({ ok: false, failure: { kind: 'timeout', message: 'git did not finish within 2s' } });
      // The connection is held by git-remote-http, a child of git: it closes only if that died too.
      await until(() => server.closed === 1);
      expect(server.closed).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('kills a run when it is cancelled', async () => {
    const server = await silentServer();
    try {
      const runner = createToolRunner(paths);
      const controller = new AbortController();
      const running = withScratchDir((scratch) =>
        runner.run({ tool: 'git', scratch, args: ['ls-remote', '--', server.url], signal: controller.signal }),
      );
      await until(() => server.open === 1);
      controller.abort();
      expect(await running).toEqual({ ok: false, failure: { kind: 'aborted', message: 'git was cancelled' } });
    } finally {
      await server.close();
    }
  });

  it('kills a run whose output exceeds the limit', async () => {
    const runner = createToolRunner(paths, { maxStdoutBytes: 100 });
    const result = await withScratchDir((scratch) => runner.run({ tool: 'git', scratch, args: ['help', '--all'] }));
    expect(result).toEqual({ ok: false, failure: { kind: 'output-limit', message: 'git wrote more than 100 bytes of output' } });
  });

  it('runs at most maxConcurrent tools at a time', async () => {
    const server = await silentServer();
    try {
      const runner = createToolRunner(paths, { timeoutMs: 1000, maxConcurrent: 1 });
      const run = (): Promise<unknown> =>
        withScratchDir((scratch) => runner.run({ tool: 'git', scratch, args: ['ls-remote', '--', server.url] }));
      await Promise.all([run(), run(), run()]);
      expect(server.maxOpen).toBe(1);
      expect(runner.invocations('git')).toBe(3);
    } finally {
      await server.close();
    }
  });

  it('says which tool is missing rather than running something else', async () => {
    const runner = createToolRunner({ ...paths, helm: '/nonexistent/helm' });
    const result = await withScratchDir((scratch) => runner.run({ tool: 'helm', scratch, args: ['version'] }));
    expect(result).toEqual({ ok: false, failure: { kind: 'not-started', message: 'helm was not found at /nonexistent/helm' } });
    expect(runner.invocations('helm')).toBe(0);
  });
});

describe('createToolRunner with the real kustomize', () => {
  it.each<[string, string, string]>([
    ['no network for a remote file', 'https://203.0.113.7/x.yaml', 'proxyconnect tcp: dial tcp 127.0.0.1:9: connect: connection refused'],
    ['no git for a remote base', 'github.com/stefanprodan/podinfo//kustomize?ref=6.14.1', `no 'git' program on path`],
  ])('gives kustomize %s', async (_name, resource, message) => {
    const runner = createToolRunner(paths);
    const result = await withScratchDir(async (scratch) => {
      const app = path.join(scratch, 'app');
      await mkdir(app);
      await writeFile(path.join(app, 'kustomization.yaml'), `resources:\n- ${resource}\n`);
      return runner.run({ tool: 'kustomize', scratch, args: ['build', app] });
    });
    expect(result.ok ? '' : result.failure.message).toContain(message);
  });
});
