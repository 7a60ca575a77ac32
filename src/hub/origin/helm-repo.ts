import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import semver from 'semver';
import { httpGet } from './http-get.js';
import type { ArtifactStore } from './store.js';
import { writePrivateFile, type ToolRunner } from './tool.js';
import type { OriginCredentials, OriginPolicy } from './types.js';

// Chart origins: a chart repository (https, with an index.yaml) or an OCI registry (oci://).
//
// - Chart repository: the hub GETs `REPO/index.yaml` itself (http-get.ts), resolves `version` (an
//   exact version, or a semver range: the highest match; default `*`, the newest non-prerelease),
//   and downloads the archive the entry names (relative URLs against the repository), checking its
//   sha256 against the index's `digest` when the index gives one. When it does and the store holds
//   that digest already, a poll costs one index GET and nothing else.
// - OCI registry: the real `helm pull oci://REPO/CHART --version V`, with basic auth written into a
//   0600 registry config file in the run's private directory (`--registry-config`), never argv,
//   and the CA as `--ca-file`. helm resolves ranges over the registry's tags itself, and prints the
//   version and the manifest digest it pulled. A registry has no index to compare against, so each
//   poll pulls the chart (a small archive) and finds the same content by its digest.
//
// The artifact is the chart archive as published (`chart.tgz` in the store, by the sha256 of its
// bytes), rendered with `helm template` from the archive: helm's own loader reads it, so the hub
// never extracts an archive a stranger wrote onto its disk.

export interface HelmOrigin {
  repoURL: string;
  chart: string;
  /** An exact version or a semver range; default `*`. */
  version?: string;
}

export interface FetchedChart {
  /** `name@version`. */
  revision: string;
  version: string;
  /** `sha256:…` of the chart archive. */
  digest: string;
  /** For OCI, the manifest digest helm pulled (what `helm push` and the registry show). */
  ociDigest?: string;
  /** The archive on disk, for helm template. */
  archive: string;
  storeKey: string;
}

export interface ChartFetchContext {
  runner: ToolRunner;
  store: ArtifactStore;
  policy: OriginPolicy;
  signal?: AbortSignal;
  /** Bounds of the in-process GETs. */
  http: { timeoutMs: number; maxIndexBytes: number; maxChartBytes: number };
}

export const DEFAULT_CHART_HTTP = { timeoutMs: 60_000, maxIndexBytes: 64 * 1024 * 1024, maxChartBytes: 32 * 1024 * 1024 };

type Checked<T> = ({ ok: true } & T) | { ok: false; message: string };

export interface IndexEntry {
  version: string;
  urls: string[];
  digest?: string;
}

const ARCHIVE = 'chart.tgz';

/** Why the hub will not fetch a repoURL, or undefined. */
export function repoURLProblem(repoURL: string, policy: OriginPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(repoURL);
  } catch {
    return `repoURL ${JSON.stringify(repoURL)} is not a URL`;
  }
  if (url.username !== '' || url.password !== '') return 'repoURL holds credentials: put them in the secretRef Secret';
  if (url.protocol === 'https:' || url.protocol === 'oci:') return undefined;
  if (url.protocol === 'http:')
    return policy.allowInsecure
      ? undefined
      : 'repoURL uses http://, which nothing secures (the hub fetches it only with --allow-insecure-sources, for tests): use https';
  return `repoURL ${JSON.stringify(repoURL)} is neither https:// nor oci://`;
}

/** The versions index.yaml lists for a chart. */
export function parseIndex(text: string, chart: string): Checked<{ entries: IndexEntry[] }> {
  let index: unknown;
  try {
    index = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (error) {
    return { ok: false, message: `index.yaml is not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
  }
  const entries = (index as { entries?: Record<string, unknown> } | null)?.entries?.[chart];
  if (!Array.isArray(entries) || entries.length === 0)
    return { ok: false, message: `the repository has no chart ${JSON.stringify(chart)}` };
  const parsed = entries.flatMap((entry: unknown): IndexEntry[] => {
    const { version, urls, digest } = (entry ?? {}) as { version?: unknown; urls?: unknown; digest?: unknown };
    // A YAML 1.1 index may hold `version: 1.0` as a number; Helm reads it as the string.
    if ((typeof version !== 'string' && typeof version !== 'number') || !Array.isArray(urls)) return [];
    return [
      {
        version: String(version),
        urls: urls.filter((url): url is string => typeof url === 'string'),
        ...(typeof digest === 'string' && digest !== '' ? { digest: digest.toLowerCase() } : {}),
      },
    ];
  });
  return { ok: true, entries: parsed };
}

/** The entry `version` selects: the exact version, or the highest in a range (default `*`). */
export function resolveChartVersion(
  entries: readonly IndexEntry[],
  chart: string,
  version: string | undefined,
): Checked<{ entry: IndexEntry }> {
  const wanted = version ?? '*';
  const exact = semver.valid(wanted);
  if (exact !== null) {
    const entry = entries.find((candidate) => candidate.version === wanted || semver.valid(candidate.version) === exact);
    return entry ? { ok: true, entry } : { ok: false, message: `chart ${chart} has no version ${wanted}` };
  }
  if (semver.validRange(wanted) === null)
    return { ok: false, message: `version ${JSON.stringify(wanted)} is neither a version nor a semver range` };
  const byVersion = new Map(
    entries.filter((entry) => semver.valid(entry.version) !== null).map((entry) => [semver.valid(entry.version) ?? '', entry]),
  );
  const best = semver.maxSatisfying([...byVersion.keys()], wanted);
  const entry = best === null ? undefined : byVersion.get(best);
  return entry ? { ok: true, entry } : { ok: false, message: `no version of chart ${chart} matches ${JSON.stringify(wanted)}` };
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function storeArchive(
  context: ChartFetchContext,
  hex: string,
  bytes: () => Promise<Buffer>,
): Promise<{ archive: string; storeKey: string }> {
  const storeKey = `chart\nsha256:${hex}`;
  const dir = await context.store.ensure(storeKey, async (staging) => {
    await writeFile(path.join(staging, ARCHIVE), await bytes());
  });
  return { archive: path.join(dir, ARCHIVE), storeKey };
}

async function fetchFromRepository(
  origin: HelmOrigin,
  credentials: OriginCredentials,
  context: ChartFetchContext,
): Promise<Checked<FetchedChart>> {
  const base = origin.repoURL.endsWith('/') ? origin.repoURL : `${origin.repoURL}/`;
  const get = (url: string, maxBytes: number) =>
    httpGet(url, {
      credentialsOrigin: new URL(base).origin,
      credentials,
      allowInsecure: context.policy.allowInsecure,
      maxBytes,
      timeoutMs: context.http.timeoutMs,
      ...(context.signal ? { signal: context.signal } : {}),
    });
  const index = await get(new URL('index.yaml', base).toString(), context.http.maxIndexBytes);
  if (!index.ok) return index;
  const parsed = parseIndex(index.body.toString('utf8'), origin.chart);
  if (!parsed.ok) return parsed;
  const resolved = resolveChartVersion(parsed.entries, origin.chart, origin.version);
  if (!resolved.ok) return resolved;
  const { entry } = resolved;
  const first = entry.urls[0];
  if (first === undefined) return { ok: false, message: `index.yaml lists no URL for ${origin.chart} ${entry.version}` };
  const revision = `${origin.chart}@${entry.version}`;
  const known = entry.digest === undefined ? undefined : await context.store.get(`chart\nsha256:${entry.digest}`);
  if (entry.digest !== undefined && known !== undefined)
    return {
      ok: true,
      revision,
      version: entry.version,
      digest: `sha256:${entry.digest}`,
      archive: path.join(known, ARCHIVE),
      storeKey: `chart\nsha256:${entry.digest}`,
    };
  const download = await get(new URL(first, base).toString(), context.http.maxChartBytes);
  if (!download.ok) return download;
  const hex = sha256(download.body);
  if (entry.digest !== undefined && entry.digest !== hex)
    return { ok: false, message: `${revision}: the archive's sha256 is ${hex}, but index.yaml says ${entry.digest}` };
  const stored = await storeArchive(context, hex, () => Promise.resolve(download.body));
  return { ok: true, revision, version: entry.version, digest: `sha256:${hex}`, ...stored };
}

/** The docker-style registry config helm reads, holding basic auth for one registry host. */
export function registryConfig(host: string, credentials: OriginCredentials): string {
  const auth = Buffer.from(`${credentials.username ?? ''}:${credentials.password ?? ''}`).toString('base64');
  return JSON.stringify({ auths: { [host]: { auth } } });
}

async function pullFromRegistry(
  origin: HelmOrigin,
  credentials: OriginCredentials,
  context: ChartFetchContext,
  scratch: string,
): Promise<Checked<FetchedChart>> {
  if (credentials.bearerToken !== undefined)
    return { ok: false, message: 'an oci:// registry takes username and password, not bearerToken' };
  const reference = `${origin.repoURL.replace(/\/+$/, '')}/${origin.chart}`;
  const host = new URL(origin.repoURL).host;
  const out = path.join(scratch, 'pulled');
  await mkdir(out);
  const config = await writePrivateFile(
    scratch,
    'registry.json',
    credentials.username === undefined ? '{}' : registryConfig(host, credentials),
  );
  const ca = credentials.caCert === undefined ? [] : [`--ca-file=${await writePrivateFile(scratch, 'ca.crt', credentials.caCert)}`];
  const args = [
    'pull',
    `--destination=${out}`,
    `--registry-config=${config}`,
    ...ca,
    ...(origin.version ? [`--version=${origin.version}`] : []),
    '--',
    reference,
  ];
  const secrets = [
    credentials.password,
    Buffer.from(`${credentials.username ?? ''}:${credentials.password ?? ''}`).toString('base64'),
  ].filter((secret): secret is string => secret !== undefined);
  const result = await context.runner.run({ tool: 'helm', args, scratch, secrets, ...(context.signal ? { signal: context.signal } : {}) });
  if (!result.ok) return { ok: false, message: `helm pull ${reference}: ${result.failure.message.replace(/^Error: /, '')}` };
  const printed = `${result.stdout}\n${result.stderr}`;
  const version = /^Pulled: \S+:(\S+)$/m.exec(printed)?.[1];
  const ociDigest = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(printed)?.[1];
  const [file] = (await readdir(out).catch(() => [])).filter((name) => name.endsWith('.tgz'));
  if (version === undefined || file === undefined)
    return { ok: false, message: `helm pull ${reference} printed no chart: ${printed.trim().slice(0, 300)}` };
  const bytes = await readFile(path.join(out, file));
  const hex = sha256(bytes);
  const stored = await storeArchive(context, hex, () => Promise.resolve(bytes));
  return {
    ok: true,
    revision: `${origin.chart}@${version}`,
    version,
    digest: `sha256:${hex}`,
    ...(ociDigest ? { ociDigest } : {}),
    ...stored,
  };
}

/** Resolves and fetches a chart origin into the store. */
export async function fetchChart(
  origin: HelmOrigin,
  credentials: OriginCredentials,
  context: ChartFetchContext,
  scratch: string,
): Promise<Checked<FetchedChart>> {
  const problem = repoURLProblem(origin.repoURL, context.policy);
  if (problem !== undefined) return { ok: false, message: problem };
  if (credentials.sshPrivateKey !== undefined || credentials.knownHosts !== undefined)
    return { ok: false, message: 'an SSH private key and known_hosts apply to ssh Git URLs only' };
  return origin.repoURL.startsWith('oci://')
    ? pullFromRegistry(origin, credentials, context, scratch)
    : fetchFromRepository(origin, credentials, context);
}
