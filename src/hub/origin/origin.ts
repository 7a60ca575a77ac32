import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Manifest } from '../../api/index.js';
import { digestOf } from '../../runtime/json.js';
import { createLruCache } from '../../runtime/lru.js';
import { fetchGitTree, type GitRef } from './git.js';
import { DEFAULT_CHART_HTTP, fetchChart } from './helm-repo.js';
import type { SkippedHook } from './hooks.js';
import { rendererAt, renderTarget, type RenderInput, type Renderer, type RenderTarget } from './render.js';
import { createArtifactStore, type ArtifactStore } from './store.js';
import { createToolRunner, withScratchDir, type ToolLimits, type ToolName, type ToolPaths, type ToolRunner } from './tool.js';
import { normaliseTreePath } from './tree.js';
import type { OriginCredentials, OriginPolicy } from './types.js';

// The origin engine: what the GlobalService controller calls for `source.git` and `source.helm`.
// A hub-only library with no Kubernetes client: the controller reads the spec, the Secret and the
// cluster facts, and writes status and Works; the engine fetches and renders.
//
//   const engine = await createOriginEngine({ cacheDir, tools, policy });
//   const fetched = await engine.fetchOrigin(origin, credentials, { holder: 'ns/name' });
//   // fetched.revision → status.source.revision, fetched.digest → status.source.digest
//   const rendered = await engine.renderArtifact(fetched.artifact, { releaseName, namespace, values, capabilities });
//
// Work happens once per distinct input:
// - fetchOrigin always asks the origin what its ref or version resolves to now (ls-remote, the
//   index, a registry pull), and fetches content only for a commit or archive digest the store
//   does not hold. A poll that finds the same revision returns the same artifact (same digest).
// - renderArtifact caches by renderKey(): the content digest and, for helm only, everything
//   helm reads (release, namespace, values after substitution, kube version, API versions, CRD and
//   test options). Kustomize and plain manifests depend on the content alone, so a fleet's clusters
//   share one render however their capabilities differ. Concurrent renders of one key share one
//   tool run; a result is kept unless the tool timed out or could not start.
// - `holder` (e.g. the service's namespace/name) keeps its current artifact on disk however many
//   other origins are fetched; `release(holder)` when the service goes away.

export type Origin =
  { kind: 'git'; url: string; ref?: GitRef; path?: string } | { kind: 'helm'; repoURL: string; chart: string; version?: string };

/** Fetched content, ready to render; an opaque handle for the controller besides its fields. */
export interface Artifact {
  /** Flux's form: `main@sha1:…`, `v1.2.0@sha1:…`, `sha1:…` for git; `name@version` for a chart. */
  revision: string;
  /**
   * `sha256:…` of what a render depends on: for git, of the commit's root tree id and the path
   * (a commit that changes only its message has the same digest); for a chart, of its archive.
   */
  digest: string;
  /** For an OCI chart, the manifest digest the registry serves. */
  ociDigest?: string;
  target: RenderTarget;
  storeKey: string;
}

export interface FetchedOrigin {
  revision: string;
  digest: string;
  artifact: Artifact;
  /** When this engine first fetched this content (keep the status's own time if the revision is unchanged). */
  fetchedAt: Date;
}

/** `SourceUnavailable`: the message names the cause (the tool's own, bounded, credentials scrubbed). */
export type FetchResult = ({ ok: true } & FetchedOrigin) | { ok: false; reason: 'SourceUnavailable'; message: string };

export type RenderOutcome =
  | { ok: true; renderer: Renderer; manifests: readonly Manifest[]; skippedHooks: readonly SkippedHook[] }
  /** `transient`: a timeout or a tool that could not start; the next attempt may succeed. */
  | { ok: false; reason: 'RenderFailed'; message: string; transient: boolean };

export interface FetchOptions {
  /** Keeps this artifact on disk for the holder (and lets go of the holder's previous one). */
  holder?: string;
  signal?: AbortSignal;
}

export interface OriginEngine {
  fetchOrigin(origin: Origin, credentials?: OriginCredentials, options?: FetchOptions): Promise<FetchResult>;
  renderArtifact(artifact: Artifact, input: RenderInput): Promise<RenderOutcome>;
  /** Which tool renders the artifact (a chart: helm; a tree: what is at its path), or why none can. */
  rendererOf(artifact: Artifact): Promise<Renderer | { message: string }>;
  /** Lets go of what a holder kept (a deleted service). */
  release(holder: string): Promise<void>;
  /** Tool runs so far, e.g. to assert that 1000 clusters with 3 distinct inputs cause 3 helm runs. */
  invocations(tool: ToolName): number;
}

export interface OriginEngineConfig {
  /** A folder the engine owns: emptied at start, holding fetched trees and chart archives. */
  cacheDir: string;
  tools: ToolPaths;
  policy: OriginPolicy;
  limits?: Partial<ToolLimits>;
  /** Artifacts no holder holds that stay on disk (most recently used first); default 32. */
  spareArtifacts?: number;
  /** Renders kept in memory; default 1024. */
  renderCacheSize?: number;
  /** Instead of a runner made from `tools` and `limits` (a test counting runs, say). */
  runner?: ToolRunner;
  now?: () => Date;
}

// The controller imports the engine from this file only.
export type { GitRef } from './git.js';
export { describeSkippedHook, type SkippedHook } from './hooks.js';
export type { Capabilities, RenderInput, Renderer } from './render.js';
export { scrub, type ToolLimits, type ToolName, type ToolPaths } from './tool.js';
export type { OriginCredentials, OriginPolicy } from './types.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The cache key of one render: exactly what its output can depend on (see the module comment). */
export function renderKey(artifact: Pick<Artifact, 'digest'>, renderer: Renderer, input: RenderInput): string {
  if (renderer !== 'helm') return digestOf({ renderer, digest: artifact.digest });
  return digestOf({
    renderer,
    digest: artifact.digest,
    releaseName: input.releaseName,
    namespace: input.namespace,
    values: input.values ?? {},
    kubeVersion: input.capabilities.kubeVersion,
    apiVersions: [...new Set(input.capabilities.apiVersions)].sort(),
    includeCRDs: input.includeCRDs !== false,
    includeTests: input.includeTests === true,
  });
}

/** `a/b@sha1:…`-style trees are keyed by root tree id and path; see Artifact.digest. */
export function treeDigest(tree: string, treePath: string): string {
  return `sha256:${sha256(`git-tree ${tree}\npath ${treePath}\n`)}`;
}

/** Fetches an origin's content into the store (or finds it there), in a private scratch folder. */
function fetchArtifact(
  engine: { runner: ToolRunner; store: ArtifactStore; policy: OriginPolicy },
  origin: Origin,
  credentials: OriginCredentials,
  signal: AbortSignal | undefined,
): Promise<{ ok: true; artifact: Artifact } | { ok: false; message: string }> {
  return withScratchDir(async (scratch): Promise<{ ok: true; artifact: Artifact } | { ok: false; message: string }> => {
    const context = { ...engine, ...(signal ? { signal } : {}) };
    if (origin.kind === 'helm') {
      const chart = await fetchChart(origin, credentials, { ...context, http: DEFAULT_CHART_HTTP }, scratch);
      if (!chart.ok) return chart;
      const target: RenderTarget = { kind: 'chart', archive: chart.archive };
      return {
        ok: true,
        artifact: {
          revision: chart.revision,
          digest: chart.digest,
          ...(chart.ociDigest ? { ociDigest: chart.ociDigest } : {}),
          target,
          storeKey: chart.storeKey,
        },
      };
    }
    const treePath = normaliseTreePath(origin.path);
    if (treePath === undefined)
      return { ok: false, message: `path ${JSON.stringify(origin.path)} must be relative to the repository, without ..` };
    const tree = await fetchGitTree(origin, credentials, context, scratch);
    if (!tree.ok) return tree;
    const target: RenderTarget = { kind: 'tree', root: tree.dir, path: treePath };
    return { ok: true, artifact: { revision: tree.revision, digest: treeDigest(tree.tree, treePath), target, storeKey: tree.storeKey } };
  });
}

export async function createOriginEngine(config: OriginEngineConfig): Promise<OriginEngine> {
  await mkdir(config.cacheDir, { recursive: true, mode: 0o700 });
  const store = await createArtifactStore(path.join(config.cacheDir, 'store'), { spare: config.spareArtifacts ?? 32 });
  const runner = config.runner ?? createToolRunner(config.tools, config.limits);
  const now = config.now ?? (() => new Date());
  const renders = createLruCache<Promise<RenderOutcome>>(config.renderCacheSize ?? 1024);
  // When each content was first fetched, and which renderer a tree's path takes (by digest).
  const firstFetched = createLruCache<Date>(4096);
  const renderers = createLruCache<Renderer>(4096);

  const rendererOf = async (artifact: Artifact): Promise<Renderer | { message: string }> => {
    if (artifact.target.kind === 'chart') return 'helm';
    const known = renderers.get(artifact.digest);
    if (known !== undefined) return known;
    const detected = await rendererAt(artifact.target.root, artifact.target.path);
    if (!detected.ok) return { message: detected.message };
    renderers.set(artifact.digest, detected.renderer);
    return detected.renderer;
  };

  const render = async (artifact: Artifact, input: RenderInput): Promise<RenderOutcome> => {
    // Touch the entry so a render counts as a use, and find out if it is still on disk.
    if ((await store.get(artifact.storeKey)) === undefined)
      return {
        ok: false,
        reason: 'RenderFailed',
        message: `${artifact.revision} is no longer in the hub's cache: fetch the origin again`,
        transient: true,
      };
    const result = await renderTarget(artifact.target, input, runner);
    return result.ok ? result : { ok: false, reason: 'RenderFailed', message: result.message, transient: result.transient };
  };

  return {
    async fetchOrigin(origin, credentials = {}, options = {}) {
      const fetched = await fetchArtifact({ runner, store, policy: config.policy }, origin, credentials, options.signal);
      if (!fetched.ok) return { ok: false, reason: 'SourceUnavailable', message: fetched.message };
      const { artifact } = fetched;
      if (options.holder !== undefined) await store.hold(options.holder, artifact.storeKey);
      const fetchedAt = firstFetched.get(artifact.digest) ?? now();
      firstFetched.set(artifact.digest, fetchedAt);
      return { ok: true, revision: artifact.revision, digest: artifact.digest, artifact, fetchedAt };
    },
    async renderArtifact(artifact, input) {
      const renderer = await rendererOf(artifact);
      if (typeof renderer !== 'string') return { ok: false, reason: 'RenderFailed', message: renderer.message, transient: false };
      const key = renderKey(artifact, renderer, input);
      const cached = renders.get(key);
      if (cached) return cached;
      const pending = render(artifact, input);
      renders.set(key, pending);
      const outcome = await pending;
      // Keep what the same input will give again; drop what a retry may change.
      if (!outcome.ok && outcome.transient && renders.get(key) === pending) renders.delete(key);
      return outcome;
    },
    rendererOf,
    release: (holder) => store.release(holder),
    invocations: (tool) => runner.invocations(tool),
  };
}
