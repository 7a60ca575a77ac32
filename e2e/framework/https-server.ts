// The HTTPS front every loopback source server shares: TLS from a test CA, HTTP basic auth when
// credentials are given, a switch that takes the server "down" (503) without closing it, and a
// record of the requests it answered, so tests can count fetches.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestTLS } from './tls.js';

export interface BasicCredentials {
  username: string;
  password: string;
}

/** Credentials with a random password, different on every call. */
export function randomCredentials(username = 'flotilla'): BasicCredentials {
  return { username, password: randomBytes(12).toString('base64url') };
}

/** One answered request; the user is the authenticated user name, never a password. */
export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  user?: string;
}

/** A request that passed authentication; `user` is set when credentials were required. */
export type Handler = (request: IncomingMessage, response: ServerResponse, user: string | undefined) => void | Promise<void>;

export interface LoopbackServer {
  /** `https://127.0.0.1:PORT` */
  origin: string;
  /** `127.0.0.1:PORT` */
  host: string;
  /** Every request answered so far, oldest first. */
  requests: readonly RequestRecord[];
  /** false: every request gets 503 Service Unavailable, as from a host that is down. */
  setAvailable(available: boolean): void;
  close(): Promise<void>;
}

export interface HTTPSServerOptions {
  tls: TestTLS;
  /** Required on every request when set; a missing or wrong one gets 401 with a Basic challenge. */
  credentials?: BasicCredentials;
  realm: string;
  handle: Handler;
}

/** Starts an HTTPS server on a free loopback port. */
export async function startHTTPSServer(options: HTTPSServerOptions): Promise<LoopbackServer> {
  const requests: RequestRecord[] = [];
  let available = true;
  const server = createServer({ cert: options.tls.certPEM, key: options.tls.keyPEM }, (request, response) => {
    const path = request.url ?? '/';
    const denied = options.credentials !== undefined && !authorized(request.headers.authorization, options.credentials);
    const user = denied ? undefined : options.credentials?.username;
    response.on('finish', () => requests.push({ method: request.method ?? '', path, status: response.statusCode, user }));
    if (!available) {
      response.writeHead(503, { 'Content-Type': 'text/plain' }).end('unavailable\n');
      return;
    }
    if (denied) {
      response.writeHead(401, { 'WWW-Authenticate': `Basic realm="${options.realm}"`, 'Content-Type': 'text/plain' }).end('unauthorized\n');
      return;
    }
    Promise.resolve(options.handle(request, response, user)).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end(`${String(error)}\n`);
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolvePromise);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    setAvailable(value) {
      available = value;
    },
    close: () =>
      new Promise((resolvePromise) => {
        server.close(() => {
          resolvePromise();
        });
        server.closeAllConnections();
      }),
  };
}

/** Whether an Authorization header carries exactly these credentials (compared in constant time). */
export function authorized(header: string | undefined, expected: BasicCredentials): boolean {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  const given = Buffer.from(match[1], 'base64').toString('utf8');
  return timingSafeEqual(digest(given), digest(`${expected.username}:${expected.password}`));
}
