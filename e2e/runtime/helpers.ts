// Shared setup for the runtime's e2e suites: a Kube on a plane, a throwaway namespace, a test CRD.
import { readFileSync } from 'node:fs';
import { kubectlOk, plane, readPlaneState, uniqueName, type PlaneName } from '../framework/index.js';
import { kubeFromFile, type Kube, type KubeObject } from '../../src/runtime/kube.js';

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

export interface Widget extends KubeObject {
  spec?: { size?: number; color?: string };
  status?: { observedGeneration?: number; phase?: string; conditions?: unknown[] };
}

/** Creates a namespaced `Widget` CRD with a status subresource in a unique group; returns its apiVersion. */
export async function createWidgetCRD(target: PlaneName, group = `${uniqueName('rt')}.flotilla.test`): Promise<{ apiVersion: string; group: string; cleanup: () => Promise<void> }> {
  await kubectlOk(target, ['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [{
        name: 'v1', served: true, storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer', maximum: 100 }, color: { type: 'string' } } },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      }],
    },
  }));
  await kubectlOk(target, ['wait', '--for=condition=Established', `crd/widgets.${group}`, '--timeout=30s']);
  return {
    apiVersion: `${group}/v1`,
    group,
    cleanup: async () => {
      await kubectlOk(target, ['delete', 'crd', `widgets.${group}`, '--wait=false']);
    },
  };
}

// --- etcd, for making the apiserver answer 410 Gone for real -------------------------------------
// The plane's etcd listens on loopback without TLS; its URL is on the etcd command line. (The
// framework could publish it in state.json; until then /proc tells us.)
export function etcdURL(target: PlaneName): string {
  const pid = readPlaneState(target).pids.etcd;
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const url = args[args.indexOf('--listen-client-urls') + 1];
  if (!url) throw new Error(`no --listen-client-urls on etcd ${pid}`);
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
