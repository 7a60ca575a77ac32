// The only module that touches @kubernetes/client-node. Everything else in flotilla talks to the
// apiserver through the `Kube` interface below, on plain parsed JSON (timestamps stay strings), so
// caches hold one representation and moving to client-node 2.x is a change in this file only.
//
// client-node is used for what it does well — loading kubeconfigs (files, in-cluster, exec and
// token-file auth) — while requests go through node:http(s) with one keep-alive agent: that gives
// us streaming watches we can abort and time out, every HTTP status with its Status body, one place
// to count requests (idle must be write-free, and tests prove it), and no Date/string split between
// typed lists and watches.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

// ---------------------------------------------------------------------------------------------
// Object shapes (raw JSON)

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
}

/** Any Kubernetes object as the apiserver sends it: parsed JSON, timestamps as RFC 3339 strings. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** What identifies a resource type: any KubeObject is one. */
export interface TypeRef {
  apiVersion: string;
  kind: string;
}

/** The apiserver's `Status` object, as sent in error bodies and watch ERROR events. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}
export interface Status {
  kind?: 'Status';
  apiVersion?: string;
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
}

/** One resource as discovery describes it. */
export interface ApiResource {
  group: string;
  version: string;
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  verbs: string[];
  /** Subresources the resource serves, e.g. `status`, `scale`. */
  subresources: string[];
}

// ---------------------------------------------------------------------------------------------
// Errors

/** An apiserver answer other than 2xx, with the Status it sent (if any) parsed. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  /** HTTP status code (also the Status `code`). */
  readonly code: number;
  /** Status `reason`: NotFound, AlreadyExists, Conflict, Invalid, Forbidden, Expired, Gone, ... */
  readonly reason: string;
  /** The apiserver's own message, without our request prefix. */
  readonly apiMessage: string;
  readonly status: Status | undefined;
  readonly method: string;
  readonly path: string;
  /** Seconds the apiserver asked us to wait (429, some 5xx), when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: { code: number; reason: string; message: string; status?: Status; method: string; path: string; retryAfterSeconds?: number }) {
    super(`${init.method} ${init.path}: ${init.code} ${init.reason}: ${init.message}`);
    this.code = init.code;
    this.reason = init.reason;
    this.apiMessage = init.message;
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** Field-level causes ("spec.replicas: Invalid value ..."), for showing a user what to fix. */
  get causes(): StatusCause[] {
    return this.status?.details?.causes ?? [];
  }
}

const apiError = (error: unknown): KubeApiError | undefined => (error instanceof KubeApiError ? error : undefined);
export const isNotFound = (error: unknown): boolean => apiError(error)?.code === 404;
export const isConflict = (error: unknown): boolean => apiError(error)?.code === 409 && apiError(error)?.reason !== 'AlreadyExists';
export const isAlreadyExists = (error: unknown): boolean => apiError(error)?.reason === 'AlreadyExists';
export const isForbidden = (error: unknown): boolean => apiError(error)?.code === 403;
export const isInvalid = (error: unknown): boolean => apiError(error)?.code === 422;
/** 410 Gone / Expired: a resourceVersion or continue token too old to serve; relist. */
export const isGone = (error: unknown): boolean => {
  const e = apiError(error);
  return e !== undefined && (e.code === 410 || e.reason === 'Expired' || e.reason === 'Gone');
};
export const isTooManyRequests = (error: unknown): boolean => apiError(error)?.code === 429;

/** Parses an error body into a KubeApiError; bodies that are not a Status still give a code. */
export function errorFromResponse(method: string, path: string, code: number, body: string, retryAfter?: string): KubeApiError {
  let status: Status | undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    if (isRecord(parsed) && parsed.kind === 'Status') status = parsed;
  } catch {
    // not JSON (a proxy's HTML page, "Unauthorized" text): keep the raw text as the message
  }
  const retry = status?.details?.retryAfterSeconds ?? (retryAfter !== undefined ? Number(retryAfter) : undefined);
  return new KubeApiError({
    code: status?.code ?? code,
    reason: status?.reason ?? defaultReason(code),
    message: status?.message ?? (body.trim().slice(0, 500) || defaultReason(code)),
    method,
    path,
    ...(status ? { status } : {}),
    ...(retry !== undefined && Number.isFinite(retry) ? { retryAfterSeconds: retry } : {}),
  });
}

function defaultReason(code: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
    409: 'Conflict', 410: 'Gone', 415: 'UnsupportedMediaType', 422: 'Invalid', 429: 'TooManyRequests',
    500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
  };
  return reasons[code] ?? 'Unknown';
}

// ---------------------------------------------------------------------------------------------
// The interface

export interface RequestCommon {
  signal?: AbortSignal;
}
export interface WriteOptions extends RequestCommon {
  fieldManager?: string;
  dryRun?: boolean;
}
export interface ListOptions extends RequestCommon {
  /** Omit for all namespaces (namespaced resources) or for cluster-scoped ones. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; all pages are fetched and joined. */
  limit?: number;
}
export interface ListResult<T extends KubeObject> {
  items: T[];
  /** The list's resourceVersion: start a watch from here to miss nothing. */
  resourceVersion: string;
}
export type PatchType = 'merge' | 'json' | 'strategic';
export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}
export interface PatchOptions extends WriteOptions {
  type: PatchType;
  subresource?: 'status';
}
export interface ApplyOptions extends RequestCommon {
  fieldManager: string;
  force?: boolean;
  subresource?: 'status';
  dryRun?: boolean;
}
export interface DeleteOptions extends RequestCommon {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
}
export interface WatchOptions extends RequestCommon {
  namespace?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /** Server-side timeout; the apiserver ends the watch cleanly after it (with jitter it adds). */
  timeoutSeconds?: number;
  labelSelector?: string;
  fieldSelector?: string;
  /** Watch a single object by name (a fieldSelector on metadata.name). */
  name?: string;
}
export type WatchEvent<T extends KubeObject = KubeObject> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: { metadata: { resourceVersion: string; annotations?: Record<string, string> } } };

export interface RawRequest extends RequestCommon {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Client-side timeout in ms (default 30 s); 0 for none. */
  timeoutMs?: number;
}

/** What one HTTP request did, for metrics and for tests that count writes. */
export interface RequestRecord {
  method: string;
  path: string;
  code: number; // 0 when the connection failed
  durationMs: number;
  watch: boolean;
}

export interface Kube {
  /** The apiserver's URL. */
  readonly server: string;
  /** apiVersion+kind → plural, scope, subresources; cached, refetched on a miss (CRDs created later). */
  resource(type: TypeRef): Promise<ApiResource>;
  get<T extends KubeObject = KubeObject>(type: TypeRef, name: string, namespace?: string, options?: RequestCommon): Promise<T>;
  /** `get` that answers null for NotFound. */
  getOrNull<T extends KubeObject = KubeObject>(type: TypeRef, name: string, namespace?: string, options?: RequestCommon): Promise<T | null>;
  list<T extends KubeObject = KubeObject>(type: TypeRef, options?: ListOptions): Promise<ListResult<T>>;
  create<T extends KubeObject = KubeObject>(object: NoInfer<T>, options?: WriteOptions): Promise<T>;
  /** PUT: optimistic concurrency through `metadata.resourceVersion` (409 Conflict when stale). */
  update<T extends KubeObject = KubeObject>(object: NoInfer<T>, options?: WriteOptions): Promise<T>;
  /** PUT to the `status` subresource. */
  updateStatus<T extends KubeObject = KubeObject>(object: NoInfer<T>, options?: WriteOptions): Promise<T>;
  patch<T extends KubeObject = KubeObject>(type: TypeRef, name: string, namespace: string | undefined, patch: Record<string, unknown> | JsonPatchOp[], options: PatchOptions): Promise<T>;
  /** Server-side apply of `object` (apiVersion, kind, metadata.name/namespace and the fields we own). */
  apply<T extends KubeObject = KubeObject>(object: NoInfer<T>, options: ApplyOptions): Promise<T>;
  delete(type: TypeRef, name: string, namespace?: string, options?: DeleteOptions): Promise<void>;
  /**
   * Streams watch events until the server ends the watch (returns) or it fails (throws: a
   * KubeApiError for ERROR events and HTTP errors, `isGone` for 410). Abort with `signal`.
   */
  watch<T extends KubeObject = KubeObject>(type: TypeRef, options: WatchOptions): AsyncGenerator<WatchEvent<T>, void, undefined>;
  /** An escape hatch for subresources and non-resource paths (`/version`, `.../token`). */
  request<T = unknown>(method: string, path: string, options?: RawRequest): Promise<T>;
  /** Counters since creation: requests by HTTP method (watches counted under WATCH). */
  requestCounts(): Readonly<Record<string, number>>;
  /** Subscribe to every finished request (metrics); returns an unsubscribe function. */
  onRequest(listener: (record: RequestRecord) => void): () => void;
  /** Closes idle keep-alive sockets (long-running processes never need this; tests do). */
  close(): void;
}

export const WRITE_METHODS: readonly string[] = ['POST', 'PUT', 'PATCH', 'DELETE'];

// ---------------------------------------------------------------------------------------------
// Construction

export interface KubeOptions {
  /** Sent as User-Agent, so apiserver audit logs and metrics name the component. */
  userAgent?: string;
  /** Default client-side timeout for non-watch requests, ms. */
  timeoutMs?: number;
  /** How long a discovery miss is remembered before asking again, ms (CRDs appear later). */
  discoveryMissTtlMs?: number;
}

export interface TokenConfig {
  server: string;
  /** The bearer token, or where to read the current one: asked per request, so rotation needs no new client. */
  token: string | (() => string);
  /** PEM CA bundle; omitted means the system roots. */
  caData?: string;
  insecureSkipTLSVerify?: boolean;
}

/** From a kubeconfig file (the current context, or `context`). */
export function kubeFromFile(path: string, context?: string, options?: KubeOptions): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  if (context !== undefined) kc.setCurrentContext(context);
  return kubeFromKubeConfig(kc, options);
}

/** In a Pod: the mounted ServiceAccount token (re-read per request, so rotation is picked up). */
export function kubeInCluster(options?: KubeOptions): Kube {
  const kc = new KubeConfig();
  kc.loadFromCluster();
  return kubeFromKubeConfig(kc, options);
}

/** $KUBECONFIG, ~/.kube/config, or in-cluster, as kubectl chooses. */
export function kubeFromDefault(options?: KubeOptions): Kube {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kubeFromKubeConfig(kc, options);
}

/** A bearer token and a server: what an agent's bootstrap kubeconfig boils down to. */
export function kubeFromToken(config: TokenConfig, options: KubeOptions = {}): Kube {
  const { token } = config;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{
      name: 'cluster', server: config.server, skipTLSVerify: config.insecureSkipTLSVerify ?? false,
      ...(config.caData !== undefined ? { caData: Buffer.from(config.caData).toString('base64') } : {}),
    }],
    users: [{ name: 'user' }],
    contexts: [{ name: 'context', cluster: 'cluster', user: 'user' }],
    currentContext: 'context',
  });
  return kubeFromKubeConfig(kc, options, typeof token === 'string' ? () => token : token);
}

/** `bearerToken`, when given, is asked for the Authorization header of every request. */
export function kubeFromKubeConfig(kc: KubeConfig, options: KubeOptions = {}, bearerToken?: () => string): Kube {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const server = cluster.server.replace(/\/+$/, '');
  const base = new URL(server);
  const secure = base.protocol === 'https:';
  const userAgent = options.userAgent ?? 'flotilla';
  const defaultTimeout = options.timeoutMs ?? 30_000;
  const missTtl = options.discoveryMissTtlMs ?? 2_000;

  const counts: Record<string, number> = {};
  const listeners = new Set<(record: RequestRecord) => void>();
  let agent: HttpAgent | undefined;

  // Auth headers are taken per request (exec plugins and token files rotate); the TLS material is
  // fixed, so one keep-alive agent is reused instead of client-node's agent-per-call.
  async function requestOptions(method: string, path: string, headers: Record<string, string>): Promise<RequestOptions> {
    const opts: RequestOptions & { ca?: unknown; cert?: unknown; key?: unknown; rejectUnauthorized?: boolean; servername?: string } = {};
    await kc.applyToHTTPSOptions(opts);
    if (cluster?.proxyUrl === undefined) {
      agent ??= secure
        ? new HttpsAgent({
          keepAlive: true,
          ca: opts.ca as string | undefined,
          cert: opts.cert as string | undefined,
          key: opts.key as string | undefined,
          ...(cluster?.skipTLSVerify === true ? { rejectUnauthorized: false } : {}),
          ...(cluster?.tlsServerName !== undefined ? { servername: cluster.tlsServerName } : {}),
        })
        : new HttpAgent({ keepAlive: true });
    }
    const authHeaders: Record<string, string> = {};
    for (const [key, value] of Object.entries(opts.headers ?? {})) {
      if (typeof value === 'string' || typeof value === 'number') authHeaders[key] = String(value);
    }
    if (bearerToken !== undefined) authHeaders.Authorization = `Bearer ${bearerToken()}`;
    return {
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || (secure ? 443 : 80),
      method,
      path: base.pathname.replace(/\/$/, '') + path,
      agent: cluster?.proxyUrl === undefined ? agent : (opts.agent),
      headers: { 'User-Agent': userAgent, Accept: 'application/json', ...authHeaders, ...headers },
      ...(opts.auth !== undefined ? { auth: opts.auth } : {}),
    };
  }

  function record(r: RequestRecord): void {
    const key = r.watch ? 'WATCH' : r.method;
    counts[key] = (counts[key] ?? 0) + 1;
    for (const listener of listeners) {
      try {
        listener(r);
      } catch {
        // a metrics listener must never break a request
      }
    }
  }

  /** Sends a request and resolves with the response, its body not yet read. */
  async function send(method: string, path: string, init: RawRequest, watch: boolean): Promise<{ res: IncomingMessage; started: number }> {
    const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    const headers: Record<string, string> = {};
    if (body !== undefined) {
      headers['Content-Type'] = init.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const opts = await requestOptions(method, path + queryString(init.query), headers);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      if (init.signal?.aborted) {
        reject(abortError(init.signal));
        return;
      }
      const req = (secure ? httpsRequest : httpRequest)({ ...opts, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
        resolve({ res, started });
      });
      const timeout = init.timeoutMs ?? (watch ? 0 : defaultTimeout);
      if (timeout > 0) {
        req.setTimeout(timeout, () => req.destroy(new Error(`${method} ${path}: no response within ${timeout} ms`)));
      }
      req.on('error', (error) => {
        record({ method, path, code: 0, durationMs: Date.now() - started, watch });
        reject(init.signal?.aborted ? abortError(init.signal) : error);
      });
      req.end(body);
    });
  }

  async function readBody(res: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function request<T>(method: string, path: string, init: RawRequest = {}): Promise<T> {
    const { res, started } = await send(method, path, init, false);
    let text: string;
    try {
      text = await readBody(res);
    } catch (error) {
      record({ method, path, code: 0, durationMs: Date.now() - started, watch: false });
      throw init.signal?.aborted ? abortError(init.signal) : error;
    }
    const code = res.statusCode ?? 0;
    record({ method, path, code, durationMs: Date.now() - started, watch: false });
    if (code < 200 || code >= 300) throw errorFromResponse(method, path, code, text, headerValue(res.headers['retry-after']));
    if (text === '') return undefined as T;
    // Non-resource paths (/readyz, /livez) answer plain text: hand that back as is.
    const type = headerValue(res.headers['content-type']) ?? '';
    if (!type.includes('json')) return text as T;
    return JSON.parse(text) as T;
  }

  // --- discovery -------------------------------------------------------------------------------
  interface GroupVersionEntry {
    resources: Map<string, ApiResource> | null; // null: the group/version is not served
    fetchedAt: number;
  }
  const discovery = new Map<string, GroupVersionEntry>();
  const inflight = new Map<string, Promise<GroupVersionEntry>>();

  async function fetchGroupVersion(apiVersion: string): Promise<GroupVersionEntry> {
    const [group, version] = splitApiVersion(apiVersion);
    const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
    let list: { resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[] };
    try {
      list = await request('GET', path);
    } catch (error) {
      if (isNotFound(error)) return { resources: null, fetchedAt: Date.now() };
      throw error;
    }
    const resources = new Map<string, ApiResource>();
    const subresources = new Map<string, string[]>();
    for (const r of list.resources ?? []) {
      const slash = r.name.indexOf('/');
      if (slash >= 0) {
        const parent = r.name.slice(0, slash);
        subresources.set(parent, [...(subresources.get(parent) ?? []), r.name.slice(slash + 1)]);
      }
    }
    for (const r of list.resources ?? []) {
      if (r.name.includes('/')) continue;
      resources.set(r.kind, {
        group, version, apiVersion, kind: r.kind, plural: r.name, namespaced: r.namespaced,
        verbs: r.verbs ?? [], subresources: subresources.get(r.name) ?? [],
      });
    }
    return { resources, fetchedAt: Date.now() };
  }

  function refresh(apiVersion: string): Promise<GroupVersionEntry> {
    let pending = inflight.get(apiVersion);
    if (!pending) {
      pending = fetchGroupVersion(apiVersion).then((entry) => {
        discovery.set(apiVersion, entry);
        return entry;
      }).finally(() => inflight.delete(apiVersion));
      inflight.set(apiVersion, pending);
    }
    return pending;
  }

  async function resource(type: TypeRef): Promise<ApiResource> {
    let entry = discovery.get(type.apiVersion);
    let found = entry?.resources?.get(type.kind);
    if (found) return found;
    // A miss: the CRD may have been created since we looked. Ask again unless we just did.
    if (!entry || Date.now() - entry.fetchedAt >= missTtl) {
      entry = await refresh(type.apiVersion);
      found = entry.resources?.get(type.kind);
      if (found) return found;
    }
    throw new KubeApiError({
      code: 404, reason: 'NotFound', method: 'GET', path: `discovery ${type.apiVersion}`,
      message: `the server has no resource for kind ${type.kind} in ${type.apiVersion}`,
    });
  }

  async function pathFor(type: TypeRef, namespace: string | undefined, name?: string, subresource?: string, collection = false): Promise<string> {
    const r = await resource(type);
    const root = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    let path = root;
    if (r.namespaced) {
      if (namespace !== undefined && namespace !== '') path += `/namespaces/${encodeURIComponent(namespace)}`;
      else if (!collection) throw new Error(`${type.kind} is namespaced: a namespace is required`);
    }
    path += `/${r.plural}`;
    if (name !== undefined) path += `/${encodeURIComponent(name)}`;
    if (subresource !== undefined) path += `/${subresource}`;
    return path;
  }

  function objectPath(object: KubeObject, subresource?: string, withName = true): Promise<string> {
    const name = object.metadata.name;
    if (withName && (name === undefined || name === '')) throw new Error(`${object.kind} has no metadata.name`);
    return pathFor(object, object.metadata.namespace, withName ? name : undefined, subresource);
  }

  const writeQuery = (o: { fieldManager?: string; dryRun?: boolean }): Record<string, string | undefined> => ({
    fieldManager: o.fieldManager,
    dryRun: o.dryRun === true ? 'All' : undefined,
  });

  const withType = <T extends KubeObject>(type: TypeRef, object: T): T => {
    // Items of a list come without apiVersion/kind; fill them so every cached object looks alike.
    if (!object.apiVersion) object.apiVersion = type.apiVersion;
    if (!object.kind) object.kind = type.kind;
    return object;
  };

  const kube: Kube = {
    server,
    resource,
    async get<T extends KubeObject>(type: TypeRef, name: string, namespace?: string, options: RequestCommon = {}): Promise<T> {
      return withType(type, await request<T>('GET', await pathFor(type, namespace, name), options));
    },
    async getOrNull<T extends KubeObject>(type: TypeRef, name: string, namespace?: string, options: RequestCommon = {}): Promise<T | null> {
      try {
        return await kube.get<T>(type, name, namespace, options);
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },
    async list<T extends KubeObject>(type: TypeRef, options: ListOptions = {}): Promise<ListResult<T>> {
      const path = await pathFor(type, options.namespace, undefined, undefined, true);
      const items: T[] = [];
      let resourceVersion = '';
      let continueToken: string | undefined;
      let limit = options.limit;
      for (;;) {
        let page: { metadata?: { resourceVersion?: string; continue?: string }; items?: T[] };
        try {
          page = await request('GET', path, {
            ...(options.signal ? { signal: options.signal } : {}),
            query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit, continue: continueToken },
          });
        } catch (error) {
          // A continue token expired mid-way (410): start over with one unpaginated list, as client-go does.
          if (continueToken !== undefined && isGone(error)) {
            items.length = 0;
            continueToken = undefined;
            limit = undefined;
            continue;
          }
          throw error;
        }
        if (continueToken === undefined) resourceVersion = page.metadata?.resourceVersion ?? '';
        for (const item of page.items ?? []) items.push(withType(type, item));
        continueToken = page.metadata?.continue || undefined;
        if (continueToken === undefined) return { items, resourceVersion };
      }
    },
    async create<T extends KubeObject>(object: T, options: WriteOptions = {}): Promise<T> {
      return request<T>('POST', await objectPath(object, undefined, false), { body: object, query: writeQuery(options), ...signalOf(options) });
    },
    async update<T extends KubeObject>(object: T, options: WriteOptions = {}): Promise<T> {
      return request<T>('PUT', await objectPath(object), { body: object, query: writeQuery(options), ...signalOf(options) });
    },
    async updateStatus<T extends KubeObject>(object: T, options: WriteOptions = {}): Promise<T> {
      return request<T>('PUT', await objectPath(object, 'status'), { body: object, query: writeQuery(options), ...signalOf(options) });
    },
    async patch<T extends KubeObject>(type: TypeRef, name: string, namespace: string | undefined, patch: Record<string, unknown> | JsonPatchOp[], options: PatchOptions): Promise<T> {
      const contentType = {
        merge: 'application/merge-patch+json',
        json: 'application/json-patch+json',
        strategic: 'application/strategic-merge-patch+json',
      }[options.type];
      return request<T>('PATCH', await pathFor(type, namespace, name, options.subresource), {
        body: patch, contentType, query: writeQuery(options), ...signalOf(options),
      });
    },
    async apply<T extends KubeObject>(object: T, options: ApplyOptions): Promise<T> {
      // JSON is YAML, so the object goes as is; the apply content type is what makes it SSA.
      return request<T>('PATCH', await objectPath(object, options.subresource), {
        body: object,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: options.fieldManager, force: options.force === true ? 'true' : undefined, dryRun: options.dryRun === true ? 'All' : undefined },
        ...signalOf(options),
      });
    },
    async delete(type: TypeRef, name: string, namespace?: string, options: DeleteOptions = {}): Promise<void> {
      const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
      if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
      if (options.preconditions) body.preconditions = options.preconditions;
      if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
      await request('DELETE', await pathFor(type, namespace, name), { body, ...signalOf(options) });
    },
    watch<T extends KubeObject>(type: TypeRef, options: WatchOptions): AsyncGenerator<WatchEvent<T>, void, undefined> {
      return watchStream<T>(type, options);
    },
    request,
    requestCounts: () => ({ ...counts }),
    onRequest(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      agent?.destroy();
      agent = undefined;
    },
  };

  async function* watchStream<T extends KubeObject>(type: TypeRef, options: WatchOptions): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const path = await pathFor(type, options.namespace, undefined, undefined, true);
    const fieldSelector = [options.fieldSelector, options.name !== undefined ? `metadata.name=${options.name}` : undefined]
      .filter((s) => s !== undefined && s !== '').join(',');
    const { res, started } = await send('GET', path, {
      query: {
        watch: 'true',
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: options.allowWatchBookmarks === true ? 'true' : undefined,
        timeoutSeconds: options.timeoutSeconds,
        labelSelector: options.labelSelector,
        fieldSelector: fieldSelector || undefined,
      },
      ...signalOf(options),
    }, true);
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) {
      const text = await readBody(res).catch(() => '');
      record({ method: 'GET', path, code, durationMs: Date.now() - started, watch: true });
      throw errorFromResponse('WATCH', path, code, text, headerValue(res.headers['retry-after']));
    }
    let buffered = '';
    try {
      for await (const chunk of res) {
        buffered += (chunk as Buffer).toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line === '') continue;
          const event = JSON.parse(line) as { type: string; object: unknown };
          if (event.type === 'ERROR') {
            const status = event.object as Status;
            throw errorFromResponse('WATCH', path, status.code ?? 500, JSON.stringify(status));
          }
          if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') {
            yield { type: event.type, object: withType(type, event.object as T) };
          } else if (event.type === 'BOOKMARK') {
            yield { type: 'BOOKMARK', object: event.object as { metadata: { resourceVersion: string } } };
          }
        }
      }
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal);
      throw error;
    } finally {
      record({ method: 'GET', path, code, durationMs: Date.now() - started, watch: true });
      // Leaving early (break, abort, error) must not leave the socket streaming.
      if (!res.complete) res.destroy();
    }
  }

  return kube;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

export function splitApiVersion(apiVersion: string): [group: string, version: string] {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
}

/** `namespace/name` (or `name` when cluster-scoped): the key the cache and the queue use. */
export function objectKey(object: { metadata: { name?: string; namespace?: string } }): string {
  const name = object.metadata.name ?? '';
  return object.metadata.namespace ? `${object.metadata.namespace}/${name}` : name;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
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

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function signalOf(options: RequestCommon): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
