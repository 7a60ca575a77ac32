// An OCI registry on loopback for e2e tests: go-containerregistry's in-memory registry, pinned and
// built by hack/testenv, with charts pushed by the real `helm push`. That registry speaks plain HTTP
// without authentication, which no real hub faces (and which helm reaches only with --plain-http),
// so it listens on a private loopback port behind the HTTPS front with basic auth, the way private
// registries (Harbor, Artifactory, a registry behind an ingress) answer: `helm pull`/`template`
// reach it with `--ca-file`, `--username` and `--password`, exactly as the hub must.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type BasicCredentials, type LoopbackServer, randomCredentials, startHTTPSServer } from './https-server.js';
import { repoRoot } from './testenv.js';
import { createTestTLS, type TestTLS } from './tls.js';
import { helm, temporaryDirectory, toolPath } from './tools.js';

export interface OCIRegistry extends LoopbackServer {
  /** The repository namespace charts are pushed to: `oci://127.0.0.1:PORT/charts`. */
  url: string;
  credentials: BasicCredentials;
  tls: TestTLS;
  /** `helm push` of a packaged chart (.tgz) or a chart folder (packaged first); returns where it went. */
  push(chart: string): Promise<PushedChart>;
}

export interface PushedChart {
  /** `oci://127.0.0.1:PORT/charts/NAME`, what `helm pull` takes with `--version`. */
  ref: string;
  version: string;
  /** The manifest digest helm reported (`sha256:…`). */
  digest: string;
}

/** Starts the registry and its HTTPS front; close() stops both. The registry dies with this process. */
export async function startOCIRegistry(): Promise<OCIRegistry> {
  const temp = await temporaryDirectory('oci');
  const tls = await createTestTLS(temp.path);
  const credentials = randomCredentials();
  const registry = await startRegistryProcess();
  const server = await startHTTPSServer({
    tls,
    credentials,
    realm: 'flotilla e2e registry',
    handle: (request, response) => forward(registry.port, request, response),
  });
  const url = `oci://${server.host}/charts`;
  const helmHome = join(temp.path, 'helm');
  const auth = ['--ca-file', tls.caFile, '--username', credentials.username, '--password', credentials.password];
  return {
    ...server,
    url,
    credentials,
    tls,
    push: async (chart) => {
      let file = chart;
      if (!chart.endsWith('.tgz')) {
        const packaged = await helm(helmHome, ['package', chart, '--destination', temp.path]);
        if (packaged.code !== 0) throw new Error(`helm package ${chart} failed: ${packaged.stderr}`);
        file = /saved it to: (\S+)/.exec(packaged.stdout)?.[1] ?? '';
      }
      const pushed = await helm(helmHome, ['push', file, url, ...auth]);
      const output = pushed.stdout + pushed.stderr;
      const to = /Pushed: (\S+):(\S+)/.exec(output);
      const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(output);
      if (pushed.code !== 0 || !to?.[1] || !to[2] || !digest?.[1]) throw new Error(`helm push ${file} failed (${pushed.code}): ${output}`);
      return { ref: `oci://${to[1]}`, version: to[2], digest: digest[1] };
    },
    close: async () => {
      await server.close();
      await registry.stop();
      await temp.remove();
    },
  };
}

interface RegistryProcess {
  port: number;
  stop(): Promise<void>;
}

/**
 * Runs the pinned registry on a free loopback port under `testenv tie`, which kills it when this
 * process ends however it ends. The registry logs every request; its output is drained and only
 * the last lines are kept, for the error message of a failed start.
 */
async function startRegistryProcess(): Promise<RegistryProcess> {
  const binary = await toolPath('registry');
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    join(repoRoot, 'hack', 'testenv', 'testenv'),
    ['tie', '--owner-pid', String(process.pid), '--', binary, '-port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolvePromise) =>
    child.once('exit', () => {
      resolvePromise();
    }),
  );
  let log = '';
  const port = await new Promise<number>((resolvePromise, reject) => {
    const onOutput = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4096);
      const match = /serving on port (\d+)/.exec(log);
      if (match?.[1]) resolvePromise(Number(match[1]));
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.once('exit', (code) => {
      reject(new Error(`the OCI registry exited (${code}) before serving: ${log}`));
    });
  });
  return {
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Passes an authenticated request on to the registry's plain-HTTP loopback port, unchanged. */
function forward(port: number, request: IncomingMessage, response: ServerResponse): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const upstream = httpRequest(
      { host: '127.0.0.1', port, method: request.method, path: request.url, headers: request.headers },
      (answer: IncomingMessage) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response).on('finish', resolvePromise).on('error', reject);
      },
    );
    upstream.on('error', reject);
    request.pipe(upstream);
  });
}
