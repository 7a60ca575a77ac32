// The shapes the rest of flotilla sees: raw parsed JSON objects (timestamps stay strings), the
// `Kube` interface every component talks to the apiserver through, and the few names helpers that
// identify an object. No I/O lives here.

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
  /** Only each object's metadata (the apiserver's PartialObjectMetadataList): which objects exist, for a fraction of the bytes. */
  metadataOnly?: boolean;
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
  /** Only each object's metadata in every event (the apiserver's PartialObjectMetadata). */
  metadataOnly?: boolean;
}
export type WatchEvent<T extends KubeObject = KubeObject> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: { metadata: { resourceVersion: string; annotations?: Record<string, string> } } };

export interface RawRequest extends RequestCommon {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Extra request headers (an Accept for another representation, If-None-Match); they win over the defaults. */
  headers?: Readonly<Record<string, string>>;
  /** Client-side timeout in ms (default 30 s); 0 for none. */
  timeoutMs?: number;
}

/** One served group-version (`apps/v1`, `v1`) and the kinds of its resources, subresources left out. */
export interface ServedGroupVersion {
  groupVersion: string;
  /** Sorted, each once. */
  kinds: string[];
}

/** What an apiserver serves, as discovery says: `/api` (the core group) and `/apis` (every other group). */
export interface ServedAPIs {
  /** Sorted by groupVersion. */
  groupVersions: ServedGroupVersion[];
  /** The ETag of each discovery document (`/api`, `/apis`), for the next, conditional, ask. */
  etags: Readonly<Record<string, string>>;
}

export interface ServedAPIsOptions extends RequestCommon {
  /** The last answer: a document that did not change since is not sent again (304). */
  previous?: ServedAPIs;
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
  patch<T extends KubeObject = KubeObject>(
    type: TypeRef,
    name: string,
    namespace: string | undefined,
    patch: Record<string, unknown> | JsonPatchOp[],
    options: PatchOptions,
  ): Promise<T>;
  /** Server-side apply of `object` (apiVersion, kind, metadata.name/namespace and the fields we own). */
  apply<T extends KubeObject = KubeObject>(object: NoInfer<T>, options: ApplyOptions): Promise<T>;
  delete(type: TypeRef, name: string, namespace?: string, options?: DeleteOptions): Promise<void>;
  /**
   * Streams watch events until the server ends the watch (returns) or it fails (throws: a
   * KubeApiError for ERROR events and HTTP errors, `isGone` for 410). Abort with `signal`.
   */
  watch<T extends KubeObject = KubeObject>(type: TypeRef, options: WatchOptions): AsyncGenerator<WatchEvent<T>, void, undefined>;
  /**
   * Every group-version the apiserver serves and the kinds of its resources, from its aggregated
   * discovery (Kubernetes 1.27+). Given the previous answer, it asks again conditionally
   * (If-None-Match) and answers `previous` itself when nothing changed.
   */
  servedAPIs(options?: ServedAPIsOptions): Promise<ServedAPIs>;
  /** An escape hatch for subresources and non-resource paths (`/version`, `.../token`). */
  request<T = unknown>(method: string, path: string, options?: RawRequest): Promise<T>;
  /** Counters since creation: requests by HTTP method (watches counted under WATCH). */
  requestCounts(): Readonly<Record<string, number>>;
  /** Subscribe to every finished request (metrics); returns an unsubscribe function. */
  onRequest(listener: (record: RequestRecord) => void): () => void;
  /**
   * A client of the same apiserver, as the same identity, on keep-alive connections of its own:
   * its requests never wait for a socket behind this client's (bulk writes, or a pool that a
   * concurrency limit bounds). Leader election renews its Lease on one. Discovery, request counts
   * and `onRequest` listeners are shared with this client; `close` closes its own sockets only.
   */
  ownConnection(): Kube;
  /**
   * What another thread needs to make a client of the same apiserver as the same identity
   * (kubeFromPortable): the kubeconfig and options. Undefined when the credentials are a callback
   * (kubeFromToken with a token reader), which cannot be sent to a worker thread.
   */
  portable(): PortableKube | undefined;
  /** Closes idle keep-alive sockets (long-running processes never need this; tests do). */
  close(): void;
}

export const WRITE_METHODS: readonly string[] = ['POST', 'PUT', 'PATCH', 'DELETE'];

// ---------------------------------------------------------------------------------------------
// Construction options

export interface KubeOptions {
  /** Sent as User-Agent, so apiserver audit logs and metrics name the component. */
  userAgent?: string;
  /** Default client-side timeout for non-watch requests, ms. */
  timeoutMs?: number;
  /** How long a discovery miss is remembered before asking again, ms (CRDs appear later). */
  discoveryMissTtlMs?: number;
}

/** A client's kubeconfig (KubeConfig.exportConfig: file paths, inline data and exec plugins as given) and options. */
export interface PortableKube {
  kubeconfig: string;
  options: KubeOptions;
}

export interface TokenConfig {
  server: string;
  /** The bearer token, or where to read the current one: asked per request, so rotation needs no new client. */
  token: string | (() => string);
  /** PEM CA bundle; omitted means the system roots. */
  caData?: string;
  insecureSkipTLSVerify?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Names

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

/** Items of a list come without apiVersion/kind: fill them in, so every cached object looks alike. */
export function withType<T extends KubeObject>(type: TypeRef, object: T): T {
  if (!object.apiVersion) object.apiVersion = type.apiVersion;
  if (!object.kind) object.kind = type.kind;
  return object;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
