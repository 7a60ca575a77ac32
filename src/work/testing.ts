import type { Manifest } from '../api/index.js';
import type { ObjectMeta } from '../runtime/kube.js';

/** Builds a manifest for tests: `manifest('apps/v1', 'Deployment', 'web', 'shop', { spec: ... })`. */
export function manifest(
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
  rest: Record<string, unknown> & { metadata?: ObjectMeta } = {},
): Manifest {
  const { metadata, ...fields } = rest;
  return { apiVersion, kind, metadata: { name, ...(namespace === undefined ? {} : { namespace }), ...metadata }, ...fields };
}
