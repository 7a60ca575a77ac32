// What one Work costs the hub's heap in its informer cache: COPIES copies of a live Work (the
// fixture bench/testdata/work-live.json, see its .md) are parsed from JSON as the informer's client
// parses them, passed through a cache transform and kept; the heap's growth between two full GCs,
// divided by COPIES, is the figure, with the transform's own time per Work. Each transform runs in a
// process of its own, so that none inherits another's heap:
//   raw               none: the Work as parsed;
//   withoutFieldSets  the hub's transform until interning: managedFields without their field sets;
//   interned          that, with repeated strings and equal values shared (createCacheTransform, no
//                     status left out);
//   hub               the hub's transform now (hubCacheTransform): interned, and the Work's status
//                     without the members no hub reader reads.
//
// The copies differ as the Works of a real fleet do, so interning is measured on strings that are
// really shared, not on identical copies: copy (cluster c, service s) has its own namespace,
// cluster label, uid and resourceVersion; the name, source and revision of service s (one per
// service, as in every cluster); and timestamps of when it was written: the fixture's, moved by
// the second at which a fan-out of services one after another at 95 Works/s (the 10,000 × 10 run
// created 100,000 Works in 1,047 s) would have written it. Copies come in cluster order, as a list
// returns them.
// Run: node --expose-gc --import tsx bench/work-heap.ts   (WORK_HEAP_COPIES=20000 = 2,000 clusters × 10 services)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { hubCacheTransform } from '../src/hub/operator.js';
import { createCacheTransform, type KubeObject } from '../src/runtime/index.js';

const COPIES = Number(process.env.WORK_HEAP_COPIES ?? 20_000);
const SERVICES = 10;
const CLUSTERS = Math.ceil(COPIES / SERVICES);
const WRITTEN_PER_SECOND = 95;
const fixture = readFileSync(new URL('testdata/work-live.json', import.meta.url), 'utf8');

// What in the fixture names its cluster, its service and that service's revision, and its own
// identity: each must be there, or the copies would not differ where real Works do.
const fixtureObject = JSON.parse(fixture) as KubeObject & { spec: { source: { name: string; revision: string } } };
const tokens = {
  cluster: fixtureObject.metadata.labels?.['flotilla.dev/cluster'] ?? '',
  service: fixtureObject.spec.source.name,
  manifest: 'app-3',
  revision: fixtureObject.spec.source.revision,
  uid: fixtureObject.metadata.uid ?? '',
  resourceVersion: `"resourceVersion": "${fixtureObject.metadata.resourceVersion ?? ''}"`,
};
for (const [what, token] of Object.entries(tokens)) {
  if (token === '' || !fixture.includes(token)) throw new Error(`the fixture has no ${what} (${JSON.stringify(token)}) to vary`);
}
const timestampPattern = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g;
const revisionOf = (service: number): string => createHash('sha256').update(`svc-${service}`).digest('hex').slice(0, 16);
/** A uid of the apiserver's form, its own for each copy (and the same each time that copy is made). */
const uidOf = (index: number): string =>
  createHash('sha256')
    .update(`uid-${index}`)
    .digest('hex')
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, '$1-$2-$3-$4-$5');
const shifted = (timestamp: string, seconds: number): string =>
  new Date(Date.parse(timestamp) + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The JSON of copy `index`: cluster `index / SERVICES`, service `index % SERVICES`. */
function copyText(index: number): string {
  const cluster = Math.floor(index / SERVICES);
  const service = index % SERVICES;
  const writtenAt = Math.floor((service * CLUSTERS + cluster) / WRITTEN_PER_SECOND);
  return fixture
    .replaceAll(tokens.uid, uidOf(index))
    .replaceAll(tokens.resourceVersion, `"resourceVersion": "${1_000_000 + 2 * index}"`)
    .replaceAll(tokens.revision, revisionOf(service))
    .replaceAll(tokens.cluster, `sim-${cluster}`)
    .replaceAll(tokens.service, `svc-${service}`)
    .replaceAll(tokens.manifest, `app-${service}`)
    .replace(timestampPattern, (timestamp) => shifted(timestamp, writtenAt));
}

/**
 * The hub's cache transform before interning (src/runtime/informer.ts at da898e2), as it was, to
 * measure against: a copy of the object whose managedFields entries are without their field sets.
 */
function withoutFieldSets<T extends KubeObject>(object: T): T {
  const entries = object.metadata.managedFields;
  if (entries === undefined) return object;
  const kept = entries.map((entry) => {
    if (typeof entry !== 'object' || entry === null) return entry;
    return Object.fromEntries(Object.entries(entry).filter(([key]) => key !== 'fieldsV1'));
  });
  return { ...object, metadata: { ...object.metadata, managedFields: kept } };
}

const transforms: Record<string, () => (object: KubeObject) => KubeObject> = {
  raw: () => (object) => object,
  withoutFieldSets: () => withoutFieldSets,
  interned: () => createCacheTransform(),
  hub: hubCacheTransform,
};

interface Figures {
  bytesPerWork: number;
  /** The transform's own time per Work (parsing not counted). */
  transformMicroseconds: number;
  statusLeftOut: string[];
}

function measure(name: string): Figures {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const transform = (transforms[name] ?? (() => undefined))();
  if (!transform) throw new Error(`no transform ${name}`);
  const kept: KubeObject[] = [];
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  let transformNs = 0n;
  for (let index = 0; index < COPIES; index++) {
    const parsed = JSON.parse(copyText(index)) as KubeObject;
    const started = process.hrtime.bigint();
    kept.push(transform(parsed));
    transformNs += process.hrtime.bigint() - started;
  }
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  // What the cache holds must be the Work as parsed, minus the field sets (but raw) and the status
  // members the transform says it left out.
  type Parsed = KubeObject & { status: Record<string, unknown> };
  const text = copyText(COPIES - 1);
  const parsed = (name === 'raw' ? JSON.parse(text) : withoutFieldSets(JSON.parse(text) as KubeObject)) as Parsed;
  const last = kept[COPIES - 1] as Parsed;
  const statusLeftOut = Object.keys(parsed.status).filter((member) => !(member in last.status));
  const expected = { ...parsed, status: Object.fromEntries(Object.entries(parsed.status).filter(([member]) => member in last.status)) };
  if (!isDeepStrictEqual(last, expected)) throw new Error(`${name} changed the Work beyond what it says it left out`);
  return {
    bytesPerWork: Math.round((after - before) / COPIES),
    transformMicroseconds: +(Number(transformNs) / COPIES / 1000).toFixed(2),
    statusLeftOut,
  };
}

const variant = process.argv[2];
if (variant !== undefined) {
  process.stdout.write(JSON.stringify(measure(variant)));
} else {
  const results = Object.fromEntries(
    Object.keys(transforms).map((name) => {
      const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`${name}: ${child.stderr}`);
      return [name, JSON.parse(child.stdout) as Figures];
    }),
  );
  const perWork = (name: string): number => results[name]?.bytesPerWork ?? 0;
  process.stdout.write(
    `${JSON.stringify(
      {
        copies: COPIES,
        node: process.version,
        ...results,
        mibFor110000Works: Object.fromEntries(Object.keys(results).map((name) => [name, Math.round((perWork(name) * 110_000) / 1048576)])),
      },
      null,
      2,
    )}\n`,
  );
}
