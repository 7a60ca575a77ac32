// A throwaway CRD for tests that need a custom resource of their own: a namespaced `Widget` with a
// status subresource, in a group unique to the test, so suites sharing the planes never collide.
import type { KubeObject } from '../../src/runtime/kube.js';
import { kubectlOk, uniqueName } from './index.js';
import type { PlaneName } from './testenv.js';

export interface Widget extends KubeObject {
  spec?: { size?: number; color?: string };
  status?: { observedGeneration?: number; phase?: string; conditions?: unknown[] };
}

/** Creates a namespaced `Widget` CRD with a status subresource in a unique group; returns its apiVersion. */
export async function createWidgetCRD(
  target: PlaneName,
  group = `${uniqueName('rt')}.flotilla.test`,
): Promise<{ apiVersion: string; group: string; cleanup: () => Promise<void> }> {
  await kubectlOk(
    target,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
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
          },
        ],
      },
    }),
  );
  await kubectlOk(target, ['wait', '--for=condition=Established', `crd/widgets.${group}`, '--timeout=30s']);
  return {
    apiVersion: `${group}/v1`,
    group,
    cleanup: async () => {
      await kubectlOk(target, ['delete', 'crd', `widgets.${group}`, '--wait=false']);
    },
  };
}
