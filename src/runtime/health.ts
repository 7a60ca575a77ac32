// One port for probes and scraping: /healthz (the process loop is alive), /readyz (caches synced
// and any extra checks pass) and /metrics (Prometheus text format).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type Check = () => boolean | string;

export interface HealthServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** Each check passes with `true`; a string is the reason it fails. */
  readiness?: Record<string, Check>;
  liveness?: Record<string, Check>;
}

export interface HealthServer {
  /** The bound port (useful with port 0). */
  port(): number;
  close(): Promise<void>;
}

function runChecks(checks: Record<string, Check>): { ok: boolean; body: string } {
  const lines: string[] = [];
  let ok = true;
  for (const [name, check] of Object.entries(checks)) {
    let result: boolean | string;
    try {
      result = check();
    } catch (error) {
      result = String(error);
    }
    if (result === true) lines.push(`[+]${name} ok`);
    else {
      ok = false;
      lines.push(`[-]${name} failed: ${result === false ? 'not ready' : result}`);
    }
  }
  lines.push(ok ? 'ok' : 'failed');
  return { ok, body: lines.join('\n') + '\n' };
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(code, { 'Content-Type': type });
      res.end(body);
    };
    if (req.method !== 'GET') {
      reply(405, 'method not allowed\n');
      return;
    }
    if (path === '/healthz' || path === '/livez') {
      const { ok, body } = runChecks(options.liveness ?? {});
      reply(ok ? 200 : 500, body);
      return;
    }
    if (path === '/readyz') {
      const { ok, body } = runChecks(options.readiness ?? {});
      reply(ok ? 200 : 503, body);
      return;
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => {
          reply(200, text, options.registry.contentType);
        },
        (error: unknown) => {
          reply(500, `${String(error)}\n`);
        },
      );
      return;
    }
    reply(404, 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    // e.g. "listen EADDRINUSE: address already in use 127.0.0.1:8081", said of what it was for.
    server.once('error', (error) => {
      reject(new Error(`cannot serve /healthz, /readyz and /metrics: ${error.message}`, { cause: error }));
    });
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      resolve();
    });
  });
  return {
    port: () => (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
