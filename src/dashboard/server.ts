// `flotilla dashboard`'s HTTP server: the page and its bundle, a JSON endpoint per page, and one
// server-sent-events stream per viewer that says "your fleets changed" at most once per interval;
// the page then asks for its view again. Every answer is computed from the shared read-model,
// narrowed to the fleets the viewer may see (access.ts). Thin: the views are pure (views.ts).
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createTLSServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { errorMessage, type Kube, type Logger } from '../runtime/index.js';
import { bearerViewer, createFleetAccess, type Viewer } from './access.js';
import { createCoalescer } from './live.js';
import { createReadModel, type ReadModel } from './read-model.js';
import {
  capacityRow,
  clusterDetail,
  clusterPage,
  clusterRow,
  compliancePage,
  complianceRows,
  fleetCapacity,
  overview,
  parseClusterQuery,
  parseComplianceQuery,
  policyView,
  serviceView,
  shownFleets,
} from './views.js';

export interface DashboardOptions {
  /** The dashboard's own identity: it runs the shared watches. */
  kube: Kube;
  logger: Logger;
  host: string;
  port: number;
  /**
   * local: every request acts as the kubeconfig's identity (like `kubectl proxy`), and only
   * requests addressed to this machine by name are served (no DNS rebinding). bearer: every request
   * must carry its viewer's token, and sees what that token may see; none gets 401.
   */
  viewers: 'local' | 'bearer';
  /** A client acting as the viewer, for its access reviews. */
  clientFor: (viewer: Viewer) => { kube: Kube; close: () => void };
  /** How long an access decision is reused (default 10 s). */
  accessTtlMs?: number;
  /** At most one change message per viewer per this interval (default 250 ms). */
  intervalMs?: number;
  /** Serve HTTPS with this certificate and key (PEM): viewers' tokens must not cross a network in clear. */
  tls?: { cert: string; key: string };
}

export interface Dashboard {
  url: string;
  /** Resolves once the server and the watches have stopped (after `signal` aborts). */
  done: Promise<void>;
}

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>flotilla</title><link rel="stylesheet" href="/app.css"></head>
<body><div id="app"></div><script type="module" src="/app.js"></script></body></html>
`;

const securityHeaders = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** Whether a local-mode request is addressed to this machine (a page elsewhere cannot rebind a name to us). */
export function hostAllowed(host: string | undefined, boundHost: string, port: number): boolean {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]', boundHost.includes(':') ? `[${boundHost}]` : boundHost]);
  return [...names].some((name) => host === `${name}:${port}`);
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function reply(res: ServerResponse, code: number, body: string, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(code, { ...securityHeaders, 'Content-Type': type, ...extra });
  res.end(body);
}

interface Routes {
  model: ReadModel;
  visible(viewer: Viewer): Promise<Set<string>>;
}

/** A table's query from the URL; a bad one is the viewer's error, answered 400 with the reason. */
function parsedQuery<Q>(parse: (params: URLSearchParams) => Q, params: URLSearchParams): Q {
  try {
    return parse(params);
  } catch (error) {
    throw new HttpError(400, errorMessage(error));
  }
}

/** The JSON of one /api/ path for a viewer, or an HttpError. */
async function apiAnswer(routes: Routes, viewer: Viewer, url: URL): Promise<unknown> {
  const visible = await routes.visible(viewer);
  const path = url.pathname;
  if (path === '/api/fleets') return [...visible].sort();
  const objects = routes.model.objectsOf(shownFleets(visible, url.searchParams.get('fleet') ?? ''));
  if (path === '/api/overview') {
    const view = overview(objects);
    return { ...view, capacity: fleetCapacity(objects.members.map(capacityRow)) };
  }
  if (path === '/api/clusters')
    return clusterPage(
      objects.members.map((m) => clusterRow(m, objects.worksOf(m.metadata.name ?? ''))),
      parsedQuery(parseClusterQuery, url.searchParams),
    );
  const cluster = /^\/api\/clusters\/([^/]+)$/.exec(path);
  if (cluster) {
    const name = decodeURIComponent(cluster[1] ?? '');
    const member = routes.model.member(name);
    // A cluster of a fleet the viewer may not see is answered exactly as one that does not exist.
    if (!member || !visible.has(member.spec.fleet)) throw new HttpError(404, `no cluster ${name}`);
    return clusterDetail(member, objects.worksOf(name));
  }
  if (path === '/api/services') {
    const fleetOf = new Map([...routes.model.workspaces()].map(([fleet, workspace]) => [workspace, fleet]));
    return objects.services.map((s) => serviceView(s, (namespace) => fleetOf.get(namespace) ?? ''));
  }
  if (path === '/api/policies') return objects.policies.map(policyView);
  if (path === '/api/policies/compliance')
    return compliancePage(complianceRows(objects), parsedQuery(parseComplianceQuery, url.searchParams));
  throw new HttpError(404, `no ${path}`);
}

// eslint-disable-next-line max-lines-per-function -- one request dispatcher and the SSE streams it owns share the access and the model.
export async function startDashboard(options: DashboardOptions, signal: AbortSignal): Promise<Dashboard> {
  const { logger } = options;
  const model = createReadModel(options.kube, logger);
  const access = createFleetAccess({ clientFor: options.clientFor, ttlMs: options.accessTtlMs ?? 10_000 });
  // The built page sits beside the bundled program (dist/ui/: hack/build.ts).
  const assets = new URL('./ui/', import.meta.url);
  const intervalMs = options.intervalMs ?? 250;

  const visible = async (viewer: Viewer): Promise<Set<string>> => {
    const fleets = await access.visibleFleets(viewer, model.workspaces());
    if (fleets === 'unauthenticated') throw new HttpError(401, 'the bearer token is not valid');
    return fleets;
  };
  const routes: Routes = { model, visible };

  const viewerOf = (req: IncomingMessage): Viewer => {
    if (options.viewers === 'local') {
      if (!hostAllowed(req.headers.host, options.host, port()))
        throw new HttpError(403, 'this dashboard serves requests to 127.0.0.1 or localhost only');
      return { kind: 'local' };
    }
    const who = bearerViewer(req.headers);
    if ('refused' in who) throw new HttpError(401, who.refused);
    return who.viewer;
  };

  const stream = async (req: IncomingMessage, res: ServerResponse, viewer: Viewer): Promise<void> => {
    let fleets = await visible(viewer);
    let pending = new Set<string>();
    res.writeHead(200, { ...securityHeaders, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    res.write(': connected\n\n');
    const coalescer = createCoalescer(intervalMs, () => {
      const changed = pending;
      pending = new Set();
      void visible(viewer)
        .then((current) => {
          fleets = current;
          if ([...changed].some((fleet) => fleets.has(fleet)))
            res.write(`event: change\ndata: ${JSON.stringify({ at: new Date().toISOString() })}\n\n`);
        })
        .catch(() => res.end());
    });
    const unsubscribe = model.onChange((fleet) => {
      pending.add(fleet);
      coalescer.changed();
    });
    // A comment now and then keeps proxies from closing an idle stream.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
    const end = (): void => {
      unsubscribe();
      coalescer.stop();
      clearInterval(keepAlive);
      res.end();
    };
    req.once('close', end);
    signal.addEventListener('abort', end, { once: true });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (req.method !== 'GET') throw new HttpError(405, 'the dashboard is read-only');
    if (url.pathname === '/healthz') {
      reply(res, 200, 'ok\n', 'text/plain; charset=utf-8');
      return;
    }
    if (url.pathname === '/readyz') {
      reply(res, model.synced() ? 200 : 503, model.synced() ? 'ok\n' : 'caches not synced\n', 'text/plain');
      return;
    }
    const viewer = viewerOf(req);
    if (url.pathname === '/api/events') return stream(req, res, viewer);
    if (url.pathname.startsWith('/api/')) {
      reply(res, 200, JSON.stringify(await apiAnswer(routes, viewer, url)), 'application/json; charset=utf-8');
      return;
    }
    // The page and its bundle need no fleet; a viewer with a token that is not valid is still refused.
    await visible(viewer);
    if (url.pathname === '/app.js' || url.pathname === '/app.css') {
      const type = url.pathname.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8';
      reply(res, 200, await readFile(new URL(`.${url.pathname}`, assets), 'utf8'), type);
      return;
    }
    reply(res, 200, page, 'text/html; charset=utf-8');
  };

  const listener: RequestListener = (req, res) => {
    handle(req, res).catch((error: unknown) => {
      const code = error instanceof HttpError ? error.code : 500;
      if (code === 500) logger.error('dashboard request failed', { path: req.url?.split('?')[0], error: errorMessage(error) });
      if (res.headersSent) return res.end();
      reply(
        res,
        code,
        `${error instanceof HttpError ? error.message : 'internal error'}\n`,
        'text/plain; charset=utf-8',
        code === 401 ? { 'WWW-Authenticate': 'Bearer' } : {},
      );
    });
  };
  // Fail fast on an identity that could never sync (a namespace-limited kubeconfig), before serving.
  await model.checkAccess();
  const server = options.tls ? createTLSServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createServer(listener);
  const port = (): number => (server.address() as AddressInfo).port;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const watching = model.run(signal);
  await model.waitForSync(signal);
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const done = (async () => {
    await watching;
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  })();
  return { url: `${options.tls ? 'https' : 'http'}://${host}:${port()}/`, done };
}
