// The constructors of a `Kube` and its REST verbs. Each verb is a module-level function over one
// Discovery (which holds the Transport), so `kubeFromKubeConfig` only wires them together.
// client-node is used for what it does well — loading kubeconfigs (files, in-cluster, exec and
// token-file auth); the requests themselves go through transport.ts.
import { readFileSync } from 'node:fs';
// From its own module, not the package's index: the index loads the whole generated API, which flotilla
// never calls (the build leaves it out of the bundle; hack/build.ts says how).
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { createDiscovery, objectPath, pathFor, resource, servedAPIs, withOwnAgent, type Discovery } from './discovery.js';
import { isGone, isNotFound } from './errors.js';
import { closeTransport, createTransport, request, signalOf } from './transport.js';
import { watchStream } from './watch.js';
import {
  withType,
  type ApplyOptions,
  type DeleteOptions,
  type JsonPatchOp,
  type Kube,
  type KubeObject,
  type KubeOptions,
  type ListOptions,
  type ListResult,
  type PatchOptions,
  type PortableKube,
  type RequestCommon,
  type TokenConfig,
  type TypeRef,
  type WriteOptions,
} from './types.js';

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

/**
 * The apiserver of a kubeconfig's current cluster (a file, or $KUBECONFIG / ~/.kube/config /
 * in-cluster when `path` is undefined) without its user: what `kubeFromToken` needs to reach the same
 * apiserver as someone else. The user's own credentials (a client certificate above all, which the
 * apiserver would prefer over any bearer token) must not ride along on another's requests.
 */
export function clusterOfKubeConfig(path?: string, context?: string): Omit<TokenConfig, 'token'> {
  const kc = new KubeConfig();
  if (path === undefined) kc.loadFromDefault();
  else kc.loadFromFile(path);
  if (context !== undefined) kc.setCurrentContext(context);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const caData =
    cluster.caData !== undefined
      ? Buffer.from(cluster.caData, 'base64').toString()
      : cluster.caFile !== undefined
        ? readFileSync(cluster.caFile, 'utf8')
        : undefined;
  return {
    server: cluster.server,
    ...(caData !== undefined ? { caData } : {}),
    ...(cluster.skipTLSVerify ? { insecureSkipTLSVerify: true } : {}),
  };
}

/** A bearer token and a server: what an agent's bootstrap kubeconfig boils down to. */
export function kubeFromToken(config: TokenConfig, options: KubeOptions = {}): Kube {
  const { token } = config;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'cluster',
        server: config.server,
        skipTLSVerify: config.insecureSkipTLSVerify ?? false,
        ...(config.caData !== undefined ? { caData: Buffer.from(config.caData).toString('base64') } : {}),
      },
    ],
    users: [{ name: 'user' }],
    contexts: [{ name: 'context', cluster: 'cluster', user: 'user' }],
    currentContext: 'context',
  });
  return kubeFromKubeConfig(kc, options, typeof token === 'string' ? () => token : token);
}

/** `bearerToken`, when given, is asked for the Authorization header of every request. */
export function kubeFromKubeConfig(kc: KubeConfig, options: KubeOptions = {}, bearerToken?: () => string): Kube {
  const transport = createTransport(kc, options, bearerToken);
  const portable = bearerToken === undefined ? { kubeconfig: kc.exportConfig(), options } : undefined;
  return kubeOnDiscovery(createDiscovery(transport, options.discoveryMissTtlMs), portable);
}

/** The client another thread described with `Kube.portable`. */
export function kubeFromPortable(portable: PortableKube): Kube {
  const kc = new KubeConfig();
  kc.loadFromString(portable.kubeconfig);
  return kubeFromKubeConfig(kc, portable.options);
}

/** The verbs over one Discovery and its Transport. */
function kubeOnDiscovery(d: Discovery, portable: PortableKube | undefined): Kube {
  const { transport } = d;
  const write = <T>(method: string, path: string, object: unknown, o: WriteOptions): Promise<T> =>
    request<T>(transport, method, path, { body: object, query: writeQuery(o), ...signalOf(o) });
  return {
    server: transport.server,
    resource: (type) => resource(d, type),
    get: (type, name, namespace, o) => get(d, type, name, namespace, o),
    getOrNull: (type, name, namespace, o) => getOrNull(d, type, name, namespace, o),
    list: (type, o) => list(d, type, o),
    create: async (object, o = {}) => write('POST', await objectPath(d, object, { withName: false, signal: o.signal }), object, o),
    update: async (object, o = {}) => write('PUT', await objectPath(d, object, { signal: o.signal }), object, o),
    updateStatus: async (object, o = {}) =>
      write('PUT', await objectPath(d, object, { subresource: 'status', signal: o.signal }), object, o),
    patch: (type, name, namespace, body, o) => patch(d, type, name, namespace, body, o),
    apply: (object, o) => apply(d, object, o),
    delete: (type, name, namespace, o) => remove(d, type, name, namespace, o),
    watch: (type, o) => watchStream(d, type, o),
    servedAPIs: (o) => servedAPIs(transport, o),
    request: (method, path, o) => request(transport, method, path, o),
    requestCounts: () => ({ ...transport.counts }),
    onRequest(listener) {
      transport.listeners.add(listener);
      return () => transport.listeners.delete(listener);
    },
    ownConnection: () => kubeOnDiscovery(withOwnAgent(d), portable),
    portable: () => portable,
    close: () => {
      closeTransport(transport);
    },
  };
}

const writeQuery = (o: { fieldManager?: string; dryRun?: boolean }): Record<string, string | undefined> => ({
  fieldManager: o.fieldManager,
  dryRun: o.dryRun === true ? 'All' : undefined,
});

async function get<T extends KubeObject>(
  d: Discovery,
  type: TypeRef,
  name: string,
  namespace?: string,
  options: RequestCommon = {},
): Promise<T> {
  return withType(type, await request<T>(d.transport, 'GET', await pathFor(d, type, { namespace, name, signal: options.signal }), options));
}

async function getOrNull<T extends KubeObject>(
  d: Discovery,
  type: TypeRef,
  name: string,
  namespace?: string,
  options: RequestCommon = {},
): Promise<T | null> {
  try {
    return await get<T>(d, type, name, namespace, options);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** The representation a metadata-only list asks for (JSON as the fallback of an apiserver that lacks it). */
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json';

/** Every page, joined; the resourceVersion is the first page's, so a watch from it misses nothing. */
async function list<T extends KubeObject>(d: Discovery, type: TypeRef, options: ListOptions = {}): Promise<ListResult<T>> {
  const path = await pathFor(d, type, { namespace: options.namespace, collection: true, signal: options.signal });
  const items: T[] = [];
  let resourceVersion = '';
  let continueToken: string | undefined;
  let limit = options.limit;
  for (;;) {
    let page: { metadata?: { resourceVersion?: string; continue?: string }; items?: T[] };
    try {
      page = await request(d.transport, 'GET', path, {
        ...signalOf(options),
        query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit, continue: continueToken },
        ...(options.metadataOnly ? { headers: { Accept: METADATA_LIST_ACCEPT } } : {}),
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
}

const patchContentTypes: Record<PatchOptions['type'], string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

async function patch<T extends KubeObject>(
  d: Discovery,
  type: TypeRef,
  name: string,
  namespace: string | undefined,
  body: Record<string, unknown> | JsonPatchOp[],
  options: PatchOptions,
): Promise<T> {
  return request<T>(
    d.transport,
    'PATCH',
    await pathFor(d, type, { namespace, name, subresource: options.subresource, signal: options.signal }),
    {
      body,
      contentType: patchContentTypes[options.type],
      query: writeQuery(options),
      ...signalOf(options),
    },
  );
}

async function apply<T extends KubeObject>(d: Discovery, object: T, options: ApplyOptions): Promise<T> {
  // JSON is YAML, so the object goes as is; the apply content type is what makes it SSA.
  return request<T>(d.transport, 'PATCH', await objectPath(d, object, { subresource: options.subresource, signal: options.signal }), {
    body: object,
    contentType: 'application/apply-patch+yaml',
    query: {
      fieldManager: options.fieldManager,
      force: options.force === true ? 'true' : undefined,
      dryRun: options.dryRun === true ? 'All' : undefined,
    },
    ...signalOf(options),
  });
}

async function remove(d: Discovery, type: TypeRef, name: string, namespace?: string, options: DeleteOptions = {}): Promise<void> {
  const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
  if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
  if (options.preconditions) body.preconditions = options.preconditions;
  if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
  await request(d.transport, 'DELETE', await pathFor(d, type, { namespace, name, signal: options.signal }), { body, ...signalOf(options) });
}
