import type { Manifest } from '../../../api/index.js';

/** `manifest 2 (Deployment web/api)`: how render errors name a manifest. */
export function describeManifest(index: number, manifest: Manifest): string {
  const namespace = manifest.metadata.namespace === undefined ? '' : `${manifest.metadata.namespace}/`;
  return `manifest ${index} (${manifest.kind} ${namespace}${manifest.metadata.name})`;
}
