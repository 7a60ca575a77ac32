import { gunzipSync, gzipSync } from 'node:zlib';
import { labels, type Manifest, type Override } from '../../../api/index.js';
import { isRecord, type KubeObject } from '../../../runtime/index.js';
import { sourceWorkName } from '../../../work/naming.js';

// The last completed revision of a GlobalService, kept so that a cluster joining while a newer
// revision rolls out can be given proven content first (planRollout's `stableRevision`/`join`).
// The record holds the revision's render inputs — source manifests and overrides — not any
// cluster's rendered Work: a joining cluster needs its own render (its name, labels and groups feed
// variables and overrides), which no other cluster's Work carries. One ConfigMap per service in its
// workspace namespace, gzip-compressed, owned by the service (garbage-collected with it) and read
// from the hub's ConfigMap cache; rewritten only when a newer revision completes.

export const STABLE_RECORD_KEY = 'stable.json.gz';
/** The most compressed bytes a record holds; past it there is no record and joiners are ordinary candidates. */
export const STABLE_RECORD_LIMIT = 900 * 1024;

export interface StableContent {
  revision: string;
  manifests: readonly Manifest[];
  overrides: readonly Override[];
}

export interface ServiceIdentity {
  namespace: string;
  name: string;
  uid: string;
  apiVersion: string;
}

/** The record's name: `gs-NAME-stable`, shortened like Work names. */
export function stableRecordName(service: string): string {
  return sourceWorkName({ kind: 'GlobalService', name: `${service}-stable` });
}

/** The ConfigMap that records `content`, or undefined when it would not fit. */
export function stableRecord(service: ServiceIdentity, content: StableContent): KubeObject | undefined {
  const data = gzipSync(JSON.stringify(content));
  if (data.length > STABLE_RECORD_LIMIT) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: stableRecordName(service.name),
      namespace: service.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'flotilla', [labels.sourceKind]: 'GlobalService', [labels.sourceName]: service.name },
      annotations: { 'flotilla.dev/revision': content.revision },
      ownerReferences: [{ apiVersion: service.apiVersion, kind: 'GlobalService', name: service.name, uid: service.uid, controller: true }],
    },
    binaryData: { [STABLE_RECORD_KEY]: data.toString('base64') },
  };
}

/** The revision a record holds, without decoding it. */
export function stableRecordRevision(record: KubeObject | undefined): string | undefined {
  return record?.metadata.annotations?.['flotilla.dev/revision'];
}

/** A record's content, or undefined when it is missing or unreadable (then nothing is proven). */
export function readStableRecord(record: KubeObject | undefined): StableContent | undefined {
  const encoded = (record?.['binaryData'] as Record<string, string> | undefined)?.[STABLE_RECORD_KEY];
  if (encoded === undefined) return undefined;
  try {
    const content: unknown = JSON.parse(gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8'));
    if (
      !isRecord(content) ||
      typeof content['revision'] !== 'string' ||
      !Array.isArray(content['manifests']) ||
      !Array.isArray(content['overrides'])
    )
      return undefined;
    return content as unknown as StableContent;
  } catch {
    return undefined;
  }
}
