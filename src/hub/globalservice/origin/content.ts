// A GlobalService's Git or Helm origin as content for its clusters: fetched on its schedule
// (schedule.ts) through the origin engine (src/hub/origin/), rendered once per distinct input, and
// handed to the reconcile as per-cluster renders, like inline and ConfigMap sources.
//
// - Nothing is ever rolled out from a failure: a fetch that fails, a Secret that is missing or an
//   origin that cannot be rendered blocks the whole service (`ok: false`), so every cluster keeps
//   the revision it has and nothing is pruned. The next fetch on the schedule (5 s doubling after a
//   failure, never later than the interval) recovers on its own.
// - Kustomize and plain manifests render once for the fleet; flotilla's ${cluster.…} variables and
//   the overrides then apply per cluster, as for ConfigMap sources. A chart renders per distinct
//   (values after substitution, cluster capabilities): its values are where per-cluster input goes,
//   so its output is not substituted again; overrides still apply per cluster.
// - A chart is never rendered for a cluster that has not reported its version and served APIs: a
//   render without them would leave out capability-gated objects and the agent would prune them.
// - The revision is a digest of what the clusters' content depends on: the rendered manifests and
//   overrides (kustomize, manifests), or the chart's digest, its options and the overrides (helm). A
//   commit that changes nothing at the path is no new revision, and a revert returns the old one.
import { annotations, reasons, type GlobalService, type Manifest, type SourceStatus } from '../../../api/index.js';
import { digestOf, type KubeObject } from '../../../runtime/index.js';
import { helmCapabilities } from '../../../work/capabilities.js';
import type { MemberObject } from '../../objects.js';
import { describeSkippedHook, scrub, type GitRef, type OriginEngine, type Renderer, type SkippedHook } from '../../origin/origin.js';
import type { Artifact, FetchedOrigin, Origin } from '../../origin/origin.js';
import {
  prepareService,
  renderCached,
  renderEach,
  serviceRevision,
  type PreparedService,
  type RenderCluster,
  type RenderResult,
} from '../render/render.js';
import type { LruCache } from '../../../runtime/lru.js';
import type { RenderError } from '../render/errors.js';
import { originCredentials } from './credentials.js';
import { DEFAULT_INTERVAL_MS, fetchDue, type FetchHistory } from './schedule.js';
import { clusterValues, mergedValues, type ValuesFile } from './values.js';
import { parseDuration } from '../../../kube-semantics/duration.js';

type ServiceObject = GlobalService & KubeObject;
type Source = GlobalService['spec']['source'];

/** At most this many skipped hooks are named in status (the schema's bound). */
const SKIPPED_HOOKS_SHOWN = 20;

/** What this hub process remembers of one service's origin. */
interface OriginRecord {
  history: FetchHistory;
  fetched?: FetchedOrigin;
  error?: string;
}

/** The engine and the per-service fetch records, one per hub process (they are rebuilt after a restart). */
export interface OriginSources {
  engine: OriginEngine;
  records: Map<string, OriginRecord>;
}

/** What the reconcile reads besides the service: Secrets (by name, in the workspace), ConfigMaps, members. */
export interface OriginReaders {
  secret(name: string): Promise<KubeObject | undefined>;
  configMap(name: string): KubeObject | undefined;
  member(name: string): MemberObject | undefined;
  renders: LruCache<RenderResult>;
  signal: AbortSignal;
}

/** Each named cluster's render, and what status says of the source once they are rendered (the hooks a chart's render skipped). */
export interface OriginRender {
  rendered: Map<string, RenderResult>;
  source: SourceStatus;
}

export type OriginContent =
  | {
      ok: true;
      revision: string;
      lastHandledRequest?: string;
      render(clusters: readonly RenderCluster[]): Promise<OriginRender>;
      /** The content to record as the stable revision once complete (not for charts: their content is per cluster). */
      recordable?: readonly Manifest[];
      requeueAfterMs?: number;
    }
  | {
      ok: false;
      /** Stalled: the origin's content cannot be rendered as written. */
      sourceError?: RenderError;
      /** Retried: the origin could not be fetched. */
      unavailable?: string;
      source?: SourceStatus;
      lastHandledRequest?: string;
      requeueAfterMs?: number;
    };

export function hasOrigin(source: Source): boolean {
  return source.git !== undefined || source.helm !== undefined;
}

function originOf(source: Source): { origin: Origin; interval?: string; secretName?: string } | undefined {
  if (source.git) {
    const { url, ref, path, interval, secretRef } = source.git;
    return {
      origin: { kind: 'git', url, ...optionalRef(ref), ...(path !== undefined ? { path } : {}) },
      ...(interval !== undefined ? { interval } : {}),
      ...(secretRef ? { secretName: secretRef.name } : {}),
    };
  }
  if (source.helm) {
    const { repoURL, chart, version, interval, secretRef } = source.helm;
    return {
      origin: { kind: 'helm', repoURL, chart, ...(version !== undefined ? { version } : {}) },
      ...(interval !== undefined ? { interval } : {}),
      ...(secretRef ? { secretName: secretRef.name } : {}),
    };
  }
  return undefined;
}

/** The one ref the schema lets a user set, as the engine takes it (none: the default branch). */
function optionalRef(ref: NonNullable<Source['git']>['ref']): { ref?: GitRef } {
  if (ref?.branch !== undefined) return { ref: { branch: ref.branch } };
  if (ref?.tag !== undefined) return { ref: { tag: ref.tag } };
  if (ref?.semver !== undefined) return { ref: { semver: ref.semver } };
  if (ref?.commit !== undefined) return { ref: { commit: ref.commit } };
  return {};
}

/** Fetches when due (see schedule.ts) and returns the service's origin as it now stands on this hub. */
export async function originContent(sources: OriginSources, readers: OriginReaders, service: ServiceObject): Promise<OriginContent> {
  const key = `${service.metadata.namespace ?? ''}/${service.metadata.name ?? ''}`;
  const spec = originOf(service.spec.source);
  if (!spec) throw new Error(`GlobalService ${key} has no Git or Helm origin`);
  const request = service.metadata.annotations?.[annotations.requestedAt];
  const intervalMs = spec.interval !== undefined ? (parseDuration(spec.interval) ?? DEFAULT_INTERVAL_MS) : DEFAULT_INTERVAL_MS;
  const secret = spec.secretName !== undefined ? await readers.secret(spec.secretName) : undefined;
  const originDigest = digestOf({ origin: spec.origin, secret: spec.secretName, secretVersion: secret?.metadata.resourceVersion ?? null });
  const record = sources.records.get(key);
  if (fetchDue(record?.history, { originDigest, request, intervalMs, now: Date.now() }).now) {
    const next = await fetchNow(sources, { key, spec, secret, record, originDigest, request, signal: readers.signal });
    sources.records.set(key, next);
  }
  const current = sources.records.get(key);
  // The request this hub's last fetch answered, rather than the status as the cache holds it: the
  // reconcile after the one that fetched may read the service before that status write reached the
  // cache, and would write the former value back (and `flotilla reconcile source --wait` never returns).
  const handled = current?.history.request ?? service.status?.lastHandledRequest;
  const due = fetchDue(current?.history, { originDigest, request, intervalMs, now: Date.now() });
  const requeueAfterMs = due.now ? 1000 : due.inMs;
  const common = {
    ...(handled !== undefined ? { lastHandledRequest: handled } : {}),
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
  };
  if (!current?.fetched) return { ok: false, unavailable: current?.error ?? 'not fetched yet', ...common };
  const source = sourceStatus(spec.origin, current.fetched, service.status?.source);
  if (current.error !== undefined) return { ok: false, unavailable: current.error, source, ...common };
  const content = await renderContent(sources.engine, readers, service, current.fetched.artifact);
  if (!content.ok) return { ok: false, sourceError: content.error, source, ...common };
  const { render, ...value } = content.value;
  // The skipped hooks are known only once a cluster's chart has rendered.
  const renderAll = async (clusters: readonly RenderCluster[]): Promise<OriginRender> => {
    const rendered = await render(clusters);
    return { rendered, source: { ...source, ...content.skipped() } };
  };
  return { ...value, render: renderAll, ...common, ok: true };
}

async function fetchNow(
  sources: OriginSources,
  input: {
    key: string;
    spec: NonNullable<ReturnType<typeof originOf>>;
    secret: KubeObject | undefined;
    record: OriginRecord | undefined;
    originDigest: string;
    request: string | undefined;
    signal: AbortSignal;
  },
): Promise<OriginRecord> {
  const { record, originDigest } = input;
  // The previous content stays usable only for the same origin: another URL or chart is another thing.
  const kept = record?.history.originDigest === originDigest ? record.fetched : undefined;
  const failed = (error: string): OriginRecord => ({
    history: {
      originDigest,
      request: input.request,
      finishedAt: Date.now(),
      failures: (record?.history.failures ?? 0) + 1,
      inFlight: false,
    },
    ...(kept ? { fetched: kept } : {}),
    error,
  });
  let credentials = {};
  if (input.spec.secretName !== undefined) {
    const read = originCredentials(input.spec.secretName, input.secret);
    if (!read.ok) return failed(read.message);
    credentials = read.credentials;
  }
  const result = await sources.engine.fetchOrigin(input.spec.origin, credentials, { holder: input.key, signal: input.signal });
  if (!result.ok) return failed(result.message);
  return {
    history: { originDigest, request: input.request, finishedAt: Date.now(), failures: 0, inFlight: false },
    fetched: result,
  };
}

function originURL(origin: Origin): string {
  return scrub(origin.kind === 'git' ? origin.url : `${origin.repoURL.replace(/\/$/, '')}/${origin.chart}`, []);
}

/** What status says was fetched; the time is kept while the revision is the one already reported. */
function sourceStatus(origin: Origin, fetched: FetchedOrigin, previous: SourceStatus | undefined): SourceStatus {
  const fetchedAt =
    previous?.revision === fetched.revision && previous.fetchedAt !== undefined
      ? previous.fetchedAt
      : fetched.fetchedAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { revision: fetched.revision, digest: fetched.digest, url: originURL(origin), fetchedAt };
}

type Rendered =
  | {
      ok: true;
      value: {
        revision: string;
        render: (clusters: readonly RenderCluster[]) => Promise<Map<string, RenderResult>>;
        recordable?: readonly Manifest[];
      };
      /** The hooks not shipped, as rendering found them: read it after `render`. */
      skipped(): Pick<SourceStatus, 'skippedHooks'>;
    }
  | { ok: false; error: RenderError };

async function renderContent(engine: OriginEngine, readers: OriginReaders, service: ServiceObject, artifact: Artifact): Promise<Rendered> {
  const renderer: Renderer | { message: string } = await engine.rendererOf(artifact);
  if (typeof renderer !== 'string') return { ok: false, error: { reason: reasons.globalService.RenderFailed, message: renderer.message } };
  const chart = service.spec.source.chart ?? {};
  const releaseName = chart.releaseName ?? service.metadata.name ?? '';
  const namespace = chart.namespace ?? 'default';
  if (renderer !== 'helm') {
    // Kustomize and plain manifests depend on the content alone: one render for every cluster.
    const out = await engine.renderArtifact(artifact, { releaseName, namespace, capabilities: { kubeVersion: '', apiVersions: [] } });
    if (!out.ok) return { ok: false, error: { reason: reasons.globalService.RenderFailed, message: out.message } };
    const prepared = prepareService(out.manifests, service.spec.overrides);
    const render = (clusters: readonly RenderCluster[]) => renderEach(readers.renders, prepared, clusters);
    return { ok: true, value: { revision: serviceRevision(prepared), render, recordable: prepared.manifests }, skipped: () => ({}) };
  }
  const files = await valuesFiles(readers, chart.valuesFrom ?? []);
  if (!files.ok) return { ok: false, error: { reason: reasons.globalService.RenderFailed, message: files.message } };
  const merged = mergedValues(files.files, chart.values);
  if (!merged.ok) return { ok: false, error: { reason: reasons.globalService.RenderFailed, message: merged.message } };
  const options = {
    releaseName,
    namespace,
    includeCRDs: chart.crds !== 'Skip',
    includeTests: chart.tests === 'Include',
    sensitive: files.sensitive,
  };
  const revision = digestOf({
    digest: artifact.digest,
    values: merged.values,
    options: { ...options, sensitive: undefined },
    overrides: service.spec.overrides ?? [],
  }).slice(0, 16);
  const skippedHooks: SkippedHook[] = [];
  const preparedByOutput = new WeakMap<readonly Manifest[], PreparedService>();
  const renderOne = async (cluster: RenderCluster): Promise<RenderResult> => {
    const capabilities = helmCapabilities(readers.member(cluster.name)?.status);
    if (!capabilities) {
      return {
        ok: false,
        error: {
          reason: reasons.globalService.AwaitingCapabilities,
          message: `cluster ${cluster.name} has not reported its Kubernetes version and served APIs yet: the chart is rendered for it once it has`,
        },
      };
    }
    const values = clusterValues(merged.values, { clusterName: cluster.name, clusterLabels: cluster.labels, fleetName: cluster.fleet });
    if (!values.ok) return { ok: false, error: { reason: 'UnresolvedVariable', message: values.message } };
    const out = await engine.renderArtifact(artifact, { ...options, values: values.values, capabilities });
    if (!out.ok) return { ok: false, error: { reason: reasons.globalService.RenderFailed, message: out.message } };
    if (skippedHooks.length === 0) skippedHooks.push(...out.skippedHooks);
    let prepared = preparedByOutput.get(out.manifests);
    if (!prepared)
      preparedByOutput.set(out.manifests, (prepared = prepareService(out.manifests, service.spec.overrides, { substitute: false })));
    return renderCached(readers.renders, prepared, cluster).result;
  };
  const render = async (clusters: readonly RenderCluster[]) =>
    new Map(await Promise.all(clusters.map(async (cluster) => [cluster.name, await renderOne(cluster)] as const)));
  return {
    ok: true,
    value: { revision, render },
    skipped: () => (skippedHooks.length > 0 ? { skippedHooks: skippedHooks.slice(0, SKIPPED_HOOKS_SHOWN).map(describeSkippedHook) } : {}),
  };
}

/** The valuesFrom files, read from the workspace; Secret-held values are also returned to be scrubbed from messages. */
async function valuesFiles(
  readers: OriginReaders,
  refs: NonNullable<NonNullable<Source['chart']>['valuesFrom']>,
): Promise<{ ok: true; files: ValuesFile[]; sensitive: string[] } | { ok: false; message: string }> {
  const files: ValuesFile[] = [];
  const sensitive: string[] = [];
  for (const ref of refs) {
    const key = ref.key ?? 'values.yaml';
    const from = `${ref.kind}/${ref.name} ${key}`;
    const object = ref.kind === 'ConfigMap' ? readers.configMap(ref.name) : await readers.secret(ref.name);
    const data = (object as { data?: Record<string, string> } | undefined)?.data;
    const raw = data?.[key];
    const text = raw === undefined ? undefined : ref.kind === 'Secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    if (text === undefined && ref.optional !== true) {
      return {
        ok: false,
        message: `spec.source.chart.valuesFrom ${from}: ${object ? 'no such key' : `no ${ref.kind} ${ref.name} in the workspace namespace`}`,
      };
    }
    if (text !== undefined && ref.kind === 'Secret')
      sensitive.push(
        ...text.split('\n').flatMap((line) =>
          line
            .split(':')
            .slice(1)
            .map((v) => v.trim())
            .filter((v) => v.length >= 4),
        ),
      );
    files.push({ from, text });
  }
  return { ok: true, files, sensitive };
}
