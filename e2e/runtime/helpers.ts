// Shared setup for the runtime's e2e suites: a Kube on a plane, a throwaway namespace, a test CRD.
import { kubectlOk, plane, uniqueName, type PlaneName } from '../framework/index.js';
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
