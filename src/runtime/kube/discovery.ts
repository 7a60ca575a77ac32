// Discovery: which plural, scope and subresources an apiVersion+kind has, per group/version,
// cached and asked again on a miss (a CRD created after we first looked), with one request in
// flight per group/version however many callers miss at once. And everything an apiserver serves
// at once (`servedAPIs`), from its aggregated discovery.
import { errorFromResponse, isNotFound, KubeApiError } from './errors.js';
import { abortError, headerValue, readBody, record, request, send, type Transport } from './transport.js';
import {
  splitApiVersion,
  type ApiResource,
  type KubeObject,
  type ServedAPIs,
  type ServedAPIsOptions,
  type ServedGroupVersion,
  type TypeRef,
} from './types.js';

interface GroupVersionEntry {
  resources: Map<string, ApiResource> | null; // null: the group/version is not served
  fetchedAt: number;
}

export interface Discovery {
  readonly transport: Transport;
  /** How long a miss is remembered before asking again, ms. */
  readonly missTtlMs: number;
  readonly entries: Map<string, GroupVersionEntry>;
  readonly inflight: Map<string, Promise<GroupVersionEntry>>;
}

export function createDiscovery(transport: Transport, missTtlMs = 2_000): Discovery {
  return { transport, missTtlMs, entries: new Map(), inflight: new Map() };
}

/** The same discovery cache over a transport that shares everything but its keep-alive agent. */
export function withOwnAgent(d: Discovery): Discovery {
  return { ...d, transport: { ...d.transport, agent: undefined } };
}

async function fetchGroupVersion(transport: Transport, apiVersion: string): Promise<GroupVersionEntry> {
  const [group, version] = splitApiVersion(apiVersion);
  const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  let list: { resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[] };
  try {
    list = await request(transport, 'GET', path);
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
      group,
      version,
      apiVersion,
      kind: r.kind,
      plural: r.name,
      namespaced: r.namespaced,
      verbs: r.verbs ?? [],
      subresources: subresources.get(r.name) ?? [],
    });
  }
  return { resources, fetchedAt: Date.now() };
}

function refresh(d: Discovery, apiVersion: string): Promise<GroupVersionEntry> {
  let pending = d.inflight.get(apiVersion);
  if (!pending) {
    pending = fetchGroupVersion(d.transport, apiVersion)
      .then((entry) => {
        d.entries.set(apiVersion, entry);
        return entry;
      })
      .finally(() => d.inflight.delete(apiVersion));
    d.inflight.set(apiVersion, pending);
  }
  return pending;
}

export async function resource(d: Discovery, type: TypeRef, signal?: AbortSignal): Promise<ApiResource> {
  let entry = d.entries.get(type.apiVersion);
  let found = entry?.resources?.get(type.kind);
  if (found) return found;
  // A miss: the CRD may have been created since we looked. Ask again unless we just did.
  if (!entry || Date.now() - entry.fetchedAt >= d.missTtlMs) {
    entry = await waitUnlessAborted(refresh(d, type.apiVersion), signal);
    found = entry.resources?.get(type.kind);
    if (found) return found;
  }
  throw new KubeApiError({
    code: 404,
    reason: 'NotFound',
    method: 'GET',
    path: `discovery ${type.apiVersion}`,
    message: `the server has no resource for kind ${type.kind} in ${type.apiVersion}`,
  });
}

/**
 * Waits for a discovery request shared by every caller that missed, or stops waiting as soon as this
 * caller's signal aborts — without cancelling the request the others still wait on. So a process
 * stopped while its first request to a silent apiserver is out stops at once, not at the timeout.
 */
function waitUnlessAborted<T>(shared: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return shared;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    shared.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
    });
  });
}

/** Where on a resource a request goes: one object (`name`), its subresource, or its collection. */
export interface PathOptions {
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
  /** A namespaced collection without a namespace: across all of them. */
  collection?: boolean;
  /** Stops the wait for discovery (see `waitUnlessAborted`). */
  signal?: AbortSignal | undefined;
}

/** The REST path of a resource, one object of it or its subresource, or its collection. */
export async function pathFor(d: Discovery, type: TypeRef, at: PathOptions = {}): Promise<string> {
  const { namespace, name, subresource } = at;
  const r = await resource(d, type, at.signal);
  const root = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  let path = root;
  if (r.namespaced) {
    if (namespace !== undefined && namespace !== '') path += `/namespaces/${encodeURIComponent(namespace)}`;
    else if (at.collection !== true) throw new Error(`${type.kind} is namespaced: a namespace is required`);
  }
  path += `/${r.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}

/** The path of `object` itself (`withName`) or of its collection (a create). */
export function objectPath(
  d: Discovery,
  object: KubeObject,
  at: { subresource?: string | undefined; withName?: boolean; signal?: AbortSignal | undefined } = {},
): Promise<string> {
  const name = object.metadata.name;
  const withName = at.withName ?? true;
  if (withName && (name === undefined || name === '')) throw new Error(`${object.kind} has no metadata.name`);
  return pathFor(d, object, {
    namespace: object.metadata.namespace,
    name: withName ? name : undefined,
    subresource: at.subresource,
    signal: at.signal,
  });
}

// Aggregated discovery (KEP-3352: apidiscovery.k8s.io/v2beta1 from Kubernetes 1.26, v2 GA in 1.30)
// serves each root, /api (the core group) and /apis (every other group, CRDs and aggregated
// APIServices included), as one document listing every group, version and resource, with an ETag
// that the apiserver answers 304 Not Modified to when nothing changed. So asking again costs two
// small requests, where the per-group-version documents would cost one request per group-version.
// A version that an aggregated apiserver could not refresh (freshness Stale) still counts as
// served, with the resources last known, as helm counts it when it talks to a live cluster.
const discoveryRoots = ['/api', '/apis'] as const;
const aggregatedAccept = ['v2', 'v2beta1'].map((v) => `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`).join(',');

interface DiscoveryDocument {
  kind?: string;
  items?: {
    metadata?: { name?: string };
    versions?: { version: string; resources?: { resource: string; responseKind?: { kind?: string } }[] }[];
  }[];
}

/** The group-versions of one aggregated discovery document. */
function documentGroupVersions(document: DiscoveryDocument): ServedGroupVersion[] {
  return (document.items ?? []).flatMap((group) =>
    (group.versions ?? []).map((version) => {
      const name = group.metadata?.name ?? '';
      const kinds = (version.resources ?? []).flatMap((resource) => (resource.responseKind?.kind ? [resource.responseKind.kind] : []));
      return { groupVersion: name === '' ? version.version : `${name}/${version.version}`, kinds: [...new Set(kinds)].sort() };
    }),
  );
}

type DocumentAnswer = { etag: string | undefined; groupVersions: ServedGroupVersion[] } | 'unchanged';

async function discoveryDocument(t: Transport, path: string, etag: string | undefined, signal?: AbortSignal): Promise<DocumentAnswer> {
  const headers: Record<string, string> = { Accept: aggregatedAccept, ...(etag !== undefined ? { 'If-None-Match': etag } : {}) };
  const { res, started } = await send(t, 'GET', path, { headers, ...(signal ? { signal } : {}) }, false);
  let text: string;
  try {
    text = await readBody(res);
  } catch (error) {
    record(t, { method: 'GET', path, code: 0, durationMs: Date.now() - started, watch: false });
    throw signal?.aborted ? abortError(signal) : error;
  }
  const code = res.statusCode ?? 0;
  record(t, { method: 'GET', path, code, durationMs: Date.now() - started, watch: false });
  if (code === 304) return 'unchanged';
  if (code < 200 || code >= 300) throw errorFromResponse('GET', path, code, text);
  const document = JSON.parse(text) as DiscoveryDocument;
  if (document.kind !== 'APIGroupDiscoveryList')
    throw new Error(
      `${path} answered ${document.kind ?? 'no kind'}, not aggregated discovery: the apiserver must be Kubernetes 1.27 or later`,
    );
  return { etag: headerValue(res.headers.etag), groupVersions: documentGroupVersions(document) };
}

/** Core group-versions (`v1`) have no slash; those of every other group have one. */
const rootOf = (groupVersion: string): string => (groupVersion.includes('/') ? '/apis' : '/api');

export async function servedAPIs(t: Transport, options: ServedAPIsOptions = {}): Promise<ServedAPIs> {
  const { previous, signal } = options;
  const answers = await Promise.all(discoveryRoots.map((root) => discoveryDocument(t, root, previous?.etags[root], signal)));
  if (previous && answers.every((answer) => answer === 'unchanged')) return previous;
  const groupVersions: ServedGroupVersion[] = [];
  const etags: Record<string, string> = {};
  for (const [index, root] of discoveryRoots.entries()) {
    const answer = answers[index];
    if (answer === undefined) continue;
    if (answer === 'unchanged') {
      groupVersions.push(...(previous?.groupVersions ?? []).filter((entry) => rootOf(entry.groupVersion) === root));
      const etag = previous?.etags[root];
      if (etag !== undefined) etags[root] = etag;
    } else {
      groupVersions.push(...answer.groupVersions);
      if (answer.etag !== undefined) etags[root] = answer.etag;
    }
  }
  groupVersions.sort((a, b) => (a.groupVersion < b.groupVersion ? -1 : a.groupVersion > b.groupVersion ? 1 : 0));
  return { groupVersions, etags };
}
