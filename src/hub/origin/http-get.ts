import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { errorMessage } from '../../runtime/log.js';
import { scrub } from './tool.js';
import type { OriginCredentials } from './types.js';

// GET for chart repositories (index.yaml and chart archives), in the hub process. node:https and
// not fetch(): Node's fetch cannot trust an extra CA per request without the undici package, and a
// private chart repository's `ca.crt` must apply to its requests only, not to the whole hub.
//
// - Credentials (basic auth or a bearer token) go only to the repository's own origin, as Helm
//   does without --pass-credentials: an index whose chart URLs point at another host (GitHub
//   release assets, a CDN) gets no password, and neither does a redirect to another host.
// - Redirects are followed (at most 5); one from https to http is refused unless the hub allows
//   insecure sources.
// - The body is capped and the request has a deadline; messages name the URL without userinfo.

export interface GetOptions {
  /** `https://host:port` of the origin the credentials belong to. */
  credentialsOrigin: string;
  credentials: OriginCredentials;
  allowInsecure: boolean;
  maxBytes: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export type GetResult = { ok: true; body: Buffer } | { ok: false; message: string };

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function authorization(credentials: OriginCredentials): string | undefined {
  if (credentials.username !== undefined && credentials.password !== undefined)
    return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  return credentials.bearerToken === undefined ? undefined : `Bearer ${credentials.bearerToken}`;
}

interface Answer {
  status: number;
  location?: string;
  body: Buffer;
}

function requestOnce(url: URL, options: GetOptions, signal: AbortSignal): Promise<Answer> {
  const header = url.origin === options.credentialsOrigin ? authorization(options.credentials) : undefined;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const ca = options.credentials.caCert === undefined ? undefined : [...rootCertificates, options.credentials.caCert];
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      { method: 'GET', signal, headers: header === undefined ? {} : { authorization: header }, ...(ca ? { ca } : {}) },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > options.maxBytes) {
            response.destroy(new Error(`the response exceeds ${options.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          resolve({
            status: response.statusCode ?? 0,
            ...(response.headers.location ? { location: response.headers.location } : {}),
            body: Buffer.concat(chunks),
          });
        });
      },
    );
    request.on('error', reject);
    request.end();
  });
}

function shown(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** GETs a URL (see the module comment); the message of a failure names the URL and the reason. */
export async function httpGet(target: string, options: GetOptions): Promise<GetResult> {
  const signal = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])]);
  const secrets = [options.credentials.password, options.credentials.bearerToken].filter((s): s is string => s !== undefined);
  let url = new URL(target);
  for (let redirects = 0; redirects <= MAX_REDIRECTS; redirects += 1) {
    if (url.protocol === 'http:' && !options.allowInsecure)
      return { ok: false, message: `GET ${shown(url)}: plain http is refused (the hub allows it only with --allow-insecure-sources)` };
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return { ok: false, message: `GET ${shown(url)}: only https URLs are fetched` };
    let answer: Answer;
    try {
      answer = await requestOnce(url, options, signal);
    } catch (error) {
      const reason =
        signal.aborted && options.signal?.aborted !== true ? `no answer within ${options.timeoutMs / 1000}s` : errorMessage(error);
      return { ok: false, message: scrub(`GET ${shown(url)}: ${reason}`, secrets) };
    }
    if (REDIRECTS.has(answer.status) && answer.location !== undefined) {
      url = new URL(answer.location, url);
      continue;
    }
    if (answer.status < 200 || answer.status > 299) return { ok: false, message: `GET ${shown(url)}: HTTP ${answer.status}` };
    return { ok: true, body: answer.body };
  }
  return { ok: false, message: `GET ${target}: more than ${MAX_REDIRECTS} redirects` };
}
