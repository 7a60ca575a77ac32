// Discovery: which plural, scope and subresources an apiVersion+kind has, per group/version,
// cached and asked again on a miss (a CRD created after we first looked), with one request in
// flight per group/version however many callers miss at once.
import { isNotFound, KubeApiError } from './errors.js';
import { request, type Transport } from './transport.js';
import { splitApiVersion, type ApiResource, type KubeObject, type TypeRef } from './types.js';

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

export async function resource(d: Discovery, type: TypeRef): Promise<ApiResource> {
  let entry = d.entries.get(type.apiVersion);
  let found = entry?.resources?.get(type.kind);
  if (found) return found;
  // A miss: the CRD may have been created since we looked. Ask again unless we just did.
  if (!entry || Date.now() - entry.fetchedAt >= d.missTtlMs) {
    entry = await refresh(d, type.apiVersion);
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

/** The REST path of a resource, one object of it (`name`) or its subresource; `collection` allows all namespaces. */
export async function pathFor(
  d: Discovery,
  type: TypeRef,
  namespace: string | undefined,
  name?: string,
  subresource?: string,
  collection = false,
): Promise<string> {
  const r = await resource(d, type);
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

/** The path of `object` itself (`withName`) or of its collection (a create). */
export function objectPath(d: Discovery, object: KubeObject, subresource?: string, withName = true): Promise<string> {
  const name = object.metadata.name;
  if (withName && (name === undefined || name === '')) throw new Error(`${object.kind} has no metadata.name`);
  return pathFor(d, object, object.metadata.namespace, withName ? name : undefined, subresource);
}
