// The HTTP side of a client: requests go through node:http(s) with one keep-alive agent, which
// gives streaming watches we can abort and time out, every HTTP status with its Status body, and
// one place to count requests (idle must be write-free, and tests prove it). client-node only
// loads the kubeconfig and turns it into TLS material and auth headers.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import { errorFromResponse } from './errors.js';
import type { KubeOptions, RawRequest, RequestCommon, RequestRecord } from './types.js';

/** What every request of one client shares: where it goes, how it authenticates, what it counted. */
export interface Transport {
  readonly kc: KubeConfig;
  readonly cluster: Cluster;
  /** The apiserver's URL, without a trailing slash. */
  readonly server: string;
  readonly base: URL;
  readonly secure: boolean;
  readonly userAgent: string;
  readonly defaultTimeoutMs: number;
  /** Asked for the Authorization header of every request, when given. */
  readonly bearerToken: (() => string) | undefined;
  readonly counts: Record<string, number>;
  readonly listeners: Set<(record: RequestRecord) => void>;
  /** Created on the first request, dropped by `closeTransport`. */
  agent: HttpAgent | undefined;
  /** The kubeconfig's credentials as last applied, reused for CREDENTIALS_REUSE_MS (see `credentials`). */
  credentials: { at: number; applied: Promise<AppliedCredentials> } | undefined;
}

type AppliedCredentials = RequestOptions & { ca?: unknown; cert?: unknown; key?: unknown };

export function createTransport(kc: KubeConfig, options: KubeOptions, bearerToken?: () => string): Transport {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const server = cluster.server.replace(/\/+$/, '');
  const base = new URL(server);
  return {
    kc,
    cluster,
    server,
    base,
    bearerToken,
    secure: base.protocol === 'https:',
    userAgent: options.userAgent ?? 'flotilla',
    defaultTimeoutMs: options.timeoutMs ?? 30_000,
    counts: {},
    listeners: new Set(),
    agent: undefined,
    credentials: undefined,
  };
}

/** Closes idle keep-alive sockets; the next request opens new ones. */
export function closeTransport(t: Transport): void {
  t.agent?.destroy();
  t.agent = undefined;
}

/**
 * How long one application of the kubeconfig's credentials serves the requests that follow. Auth
 * headers rotate (exec plugins, token files), so they are not fixed for the client's life; but
 * client-node's applyToHTTPSOptions reads the CA, certificate and key files again, decodes their
 * data, builds an https.Agent and runs an exec plugin that gives no expiry on every call (50 µs of
 * CPU without a plugin, measured with a testenv kubeconfig; a process spawn with one), for credentials
 * its own token-file reader renews only every 60 s. A second is far inside that, and a 401 drops
 * them at once.
 */
const CREDENTIALS_REUSE_MS = 1000;

function credentials(t: Transport): Promise<AppliedCredentials> {
  const now = Date.now();
  if (t.credentials === undefined || now - t.credentials.at >= CREDENTIALS_REUSE_MS) {
    const opts: AppliedCredentials = {};
    const applied = t.kc.applyToHTTPSOptions(opts).then(() => opts);
    // A failure (an exec plugin's) is not kept: the next request asks again.
    applied.catch(() => {
      if (t.credentials?.applied === applied) t.credentials = undefined;
    });
    t.credentials = { at: now, applied };
  }
  return t.credentials.applied;
}

// The TLS material is fixed, so one keep-alive agent is reused instead of client-node's
// agent-per-call; auth headers come from the credentials of the last second. The agent gets one
// secure context rather than the PEMs: given those, node:https parses them into a new context for
// every connection it opens (16 at once for a Work's applies) and joins them into the pool's name
// on every request, 2 % of the member agent's CPU in a cold apply of 500 objects (--cpu-prof).
async function requestOptions(t: Transport, method: string, path: string, headers: Record<string, string>): Promise<RequestOptions> {
  const opts = await credentials(t);
  if (t.cluster.proxyUrl === undefined) {
    t.agent ??= t.secure
      ? new HttpsAgent({
          keepAlive: true,
          secureContext: createSecureContext({
            ca: opts.ca as string | undefined,
            cert: opts.cert as string | undefined,
            key: opts.key as string | undefined,
          }),
          ...(t.cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
          ...(t.cluster.tlsServerName !== undefined ? { servername: t.cluster.tlsServerName } : {}),
        })
      : new HttpAgent({ keepAlive: true });
  }
  const authHeaders: Record<string, string> = {};
  for (const [key, value] of Object.entries(opts.headers ?? {})) {
    if (typeof value === 'string' || typeof value === 'number') authHeaders[key] = String(value);
  }
  if (t.bearerToken !== undefined) authHeaders.Authorization = `Bearer ${t.bearerToken()}`;
  return {
    protocol: t.base.protocol,
    hostname: t.base.hostname.replace(/^\[|\]$/g, ''),
    port: t.base.port || (t.secure ? 443 : 80),
    method,
    path: t.base.pathname.replace(/\/$/, '') + path,
    agent: t.cluster.proxyUrl === undefined ? t.agent : opts.agent,
    headers: { 'User-Agent': t.userAgent, Accept: 'application/json', ...authHeaders, ...headers },
    ...(opts.auth !== undefined ? { auth: opts.auth } : {}),
  };
}

/** Counts a finished request and tells the listeners. */
export function record(t: Transport, r: RequestRecord): void {
  const key = r.watch ? 'WATCH' : r.method;
  t.counts[key] = (t.counts[key] ?? 0) + 1;
  for (const listener of t.listeners) {
    try {
      listener(r);
    } catch {
      // a metrics listener must never break a request
    }
  }
}

/** Sends a request and resolves with the response, its body not yet read. */
export async function send(
  t: Transport,
  method: string,
  path: string,
  init: RawRequest,
  watch: boolean,
): Promise<{ res: IncomingMessage; started: number }> {
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  const headers: Record<string, string> = { ...init.headers };
  if (body !== undefined) {
    headers['Content-Type'] = init.contentType ?? 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  const opts = await requestOptions(t, method, path + queryString(init.query), headers);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (init.signal?.aborted) {
      reject(abortError(init.signal));
      return;
    }
    const req = (t.secure ? httpsRequest : httpRequest)({ ...opts, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
      // Refused credentials (a rotated token, an expired exec credential) are applied afresh for the next request.
      if (res.statusCode === 401) t.credentials = undefined;
      resolve({ res, started });
    });
    const timeout = init.timeoutMs ?? (watch ? 0 : t.defaultTimeoutMs);
    if (timeout > 0) {
      req.setTimeout(timeout, () => req.destroy(new Error(`${method} ${path}: no response within ${timeout} ms`)));
    }
    req.on('error', (error) => {
      record(t, { method, path, code: 0, durationMs: Date.now() - started, watch });
      reject(init.signal?.aborted ? abortError(init.signal) : error);
    });
    req.end(body);
  });
}

/**
 * The whole body of a response. Read with events, not `for await`: the async iterator destroys the
 * message when it ends, and that teardown (an abort, its error and the socket's hand-back) cost the
 * agent's cold apply of 500 objects about a tenth of its CPU (bench/agent-cost.ts with --cpu-prof).
 */
export function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.once('error', reject);
    // A response whose request was aborted may end without 'end' or 'error'.
    res.once('close', () => {
      if (!res.complete) reject(new Error('the response was closed before its end'));
    });
  });
}

/** One request, its body read and parsed: JSON as a value, plain text as a string; non-2xx throws. */
export async function request<T>(t: Transport, method: string, path: string, init: RawRequest = {}): Promise<T> {
  const { res, started } = await send(t, method, path, init, false);
  let text: string;
  try {
    text = await readBody(res);
  } catch (error) {
    record(t, { method, path, code: 0, durationMs: Date.now() - started, watch: false });
    throw init.signal?.aborted ? abortError(init.signal) : error;
  }
  const code = res.statusCode ?? 0;
  record(t, { method, path, code, durationMs: Date.now() - started, watch: false });
  if (code < 200 || code >= 300) throw errorFromResponse(method, path, code, text, headerValue(res.headers['retry-after']));
  if (text === '') return undefined as T;
  // Non-resource paths (/readyz, /livez) answer plain text: hand that back as is.
  const type = headerValue(res.headers['content-type']) ?? '';
  if (!type.includes('json')) return text as T;
  return JSON.parse(text) as T;
}

function queryString(query: RawRequest['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function signalOf(options: RequestCommon): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}
