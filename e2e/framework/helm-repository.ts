// A Helm chart repository on loopback for e2e tests: charts packaged with the real `helm package`,
// indexed with the real `helm repo index`, and served as static files over HTTPS (optionally with
// basic auth), which is all a chart repository is.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, normalize, sep } from 'node:path';
import yaml from 'js-yaml';
import { type BasicCredentials, type LoopbackServer, randomCredentials, startHTTPSServer } from './https-server.js';
import { createTestTLS, type TestTLS } from './tls.js';
import { helm, temporaryDirectory } from './tools.js';

export interface HelmRepository extends LoopbackServer {
  /** The repository URL (`https://127.0.0.1:PORT/charts`), whose `/index.yaml` lists the charts. */
  url: string;
  /** Set when the repository was started with basic auth. */
  credentials?: BasicCredentials;
  tls: TestTLS;
  /** Packages a chart folder with `helm package` into the repository and re-indexes it. */
  addChart(chartDir: string): Promise<PackagedChart>;
}

export interface PackagedChart {
  name: string;
  version: string;
  /** The packaged chart's path on disk. */
  file: string;
  /** The sha256 of the .tgz, as index.yaml's `digest` gives it. */
  digest: string;
}

/** Starts a chart repository; close() stops it and removes its files. */
export async function startHelmRepository(options: { basicAuth?: boolean } = {}): Promise<HelmRepository> {
  const temp = await temporaryDirectory('helm-repo');
  const root = join(temp.path, 'charts');
  const helmHome = join(temp.path, 'helm');
  await mkdir(root);
  const tls = await createTestTLS(temp.path);
  const credentials = options.basicAuth ? randomCredentials() : undefined;
  const server = await startHTTPSServer({
    tls,
    credentials,
    realm: 'flotilla e2e charts',
    handle: (request, response) => serveFile(root, '/charts/', request, response),
  });
  const url = `${server.origin}/charts`;
  return {
    ...server,
    url,
    credentials,
    tls,
    addChart: async (chartDir) => {
      const chart = yaml.load(await readFile(join(chartDir, 'Chart.yaml'), 'utf8')) as { name: string; version: string };
      await helmOk(helmHome, ['package', chartDir, '--destination', root]);
      await helmOk(helmHome, ['repo', 'index', root, '--url', url]);
      const file = join(root, `${chart.name}-${chart.version}.tgz`);
      return {
        name: chart.name,
        version: chart.version,
        file,
        digest: createHash('sha256')
          .update(await readFile(file))
          .digest('hex'),
      };
    },
    close: async () => {
      await server.close();
      await temp.remove();
    },
  };
}

async function helmOk(home: string, args: string[]): Promise<void> {
  const result = await helm(home, args);
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
}

/** Serves the files of `root` under `prefix` for GET and HEAD; nothing outside `root` is reachable. */
async function serveFile(root: string, prefix: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = decodeURIComponent(new URL(request.url ?? '/', 'https://127.0.0.1').pathname);
  const file = path.startsWith(prefix) ? normalize(join(root, path.slice(prefix.length))) : '';
  const info = file.startsWith(root + sep) ? await stat(file).catch(() => undefined) : undefined;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  if (!info?.isFile()) {
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  const type = file.endsWith('.yaml') ? 'application/yaml' : 'application/gzip';
  response.writeHead(200, { 'Content-Type': type, 'Content-Length': info.size });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  await new Promise<void>((resolvePromise, reject) => {
    createReadStream(file).on('error', reject).on('end', resolvePromise).pipe(response);
  });
}
