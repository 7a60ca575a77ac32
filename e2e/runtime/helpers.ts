// Shared setup for the runtime's e2e suites: a Kube on a plane, a throwaway namespace, etcd access.
import { plane, readPlaneState, uniqueName, type PlaneName } from '../framework/index.js';
import { kubeFromFile, type Kube } from '../../src/runtime/kube.js';

export function kubeFor(name: PlaneName, userAgent = 'flotilla-e2e'): Kube {
  return kubeFromFile(plane(name).kubeconfigPath, undefined, { userAgent });
}

export async function createNamespace(kube: Kube, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

export async function deleteNamespace(kube: Kube, name: string): Promise<void> {
  await kube.delete({ apiVersion: 'v1', kind: 'Namespace' }, name).catch(() => undefined);
}

// --- etcd, for making the apiserver answer 410 Gone for real -------------------------------------
// The plane's etcd listens on loopback without TLS; testenv publishes its URL in state.json.
export function etcdURL(target: PlaneName): string {
  const url = readPlaneState(target).etcdURL;
  if (url === undefined) throw new Error(`plane ${target} publishes no etcd URL (kind clusters do not)`);
  return url;
}

async function etcd<T>(target: PlaneName, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${etcdURL(target)}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Deletes a key straight from etcd (as if another apiserver had done it while ours was down). */
export async function etcdDelete(target: PlaneName, key: string): Promise<number> {
  const result = await etcd<{ deleted?: string; header: { revision: string } }>(target, '/v3/kv/deleterange', { key: b64(key) });
  return Number(result.deleted ?? 0);
}

/** Compacts etcd's history up to now: any older resourceVersion is then 410 Gone. */
export async function etcdCompact(target: PlaneName): Promise<number> {
  const { header } = await etcd<{ header: { revision: string } }>(target, '/v3/kv/range', { key: b64('/') });
  await etcd(target, '/v3/kv/compaction', { revision: header.revision, physical: true });
  return Number(header.revision);
}
