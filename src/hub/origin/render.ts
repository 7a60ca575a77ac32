import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import type { Manifest } from '../../api/index.js';
import { parseManifestDocuments } from '../../kube-semantics/manifest-documents.js';
import type { HelmCapabilities } from '../../work/capabilities.js';
import { isWellKnownClusterScoped } from '../../work/identity.js';
import { selectHooks, type SkippedHook } from './hooks.js';
import { compareBytes, isInside, walkTree, type TreePath } from './tree.js';
import { NO_NETWORK, scrub, withScratchDir, writePrivateFile, type ToolFailure, type ToolName, type ToolRunner } from './tool.js';

// What is at an origin's path, rendered into manifests with the real tools.
//
// - A `kustomization.yaml`, `kustomization.yml` or `Kustomization` → `kustomize build`, with
//   kustomize's default load restrictor (files only from the kustomization's own folder and
//   below), no plugins, no Helm, no exec functions. Every kustomization it reaches (resources,
//   bases, components, generators, transformers, validators) must be a folder of the same tree:
//   remote bases are refused (the hub fetches only origins, with their credentials and policy), and
//   so are paths that leave the tree (they would read the hub's disk or another tenant's tree).
// - A `Chart.yaml` (or a chart archive from a chart repository) → `helm template`, with no network
//   (tool.ts NO_NETWORK: a values.schema.json `$ref` to a URL is not fetched), with the release
//   name and namespace, the values (written to a 0600 file), `--kube-version` and one
//   `--api-versions` per group-version the cluster serves, `--include-crds` unless CRDs are
//   excluded (default: included, as `helm install` does). Dependencies must be in the chart
//   (`charts/`, as packaged charts have them): the hub runs no `helm dependency build`, which would
//   fetch from URLs the chart names. Namespaced objects the chart leaves without a namespace get the
//   release namespace, as `helm install` gives them. Hooks: see hooks.ts; what is not shipped is in
//   `skippedHooks`.
// - Anything else → plain manifests: every `*.yaml`, `*.yml` and `*.json` file under the path,
//   recursively, read in the byte order of their paths relative to it (as `LC_ALL=C sort` orders
//   them: `a.yaml` before `a/b.yaml` before `b.yaml`). Files and folders whose name starts with `.`
//   are skipped (`.github/workflows/*.yml` are not manifests). Symbolic links to files are read
//   (they stay inside the tree, see tree.ts); links to folders are not followed.
//
// A render that yields no manifest at all is an error, never an empty desired state: an empty
// folder or a chart whose conditions exclude everything must not prune a fleet. Errors carry the
// tool's own message (helm names the template file, line and column), bounded and scrubbed.

export type Renderer = 'helm' | 'kustomize' | 'manifests';

/** What a target cluster serves, for `.Capabilities` in charts (work/capabilities.ts reads it from the cluster's status). */
export type Capabilities = HelmCapabilities;

/** The inputs of one render; only helm renders read the release, values, capabilities and options. */
export interface RenderInput {
  releaseName: string;
  namespace: string;
  /** Values after every substitution (values, then valuesFrom merged in order). */
  values?: Readonly<Record<string, unknown>>;
  capabilities: Capabilities;
  /** Ship the chart's `crds/` folder; default true. */
  includeCRDs?: boolean;
  /** Ship Helm test hooks; default false. */
  includeTests?: boolean;
  /** Strings scrubbed from any error message (values that came from Secrets). */
  sensitive?: readonly string[];
}

export type RenderTarget = { kind: 'tree'; root: string; path: TreePath } | { kind: 'chart'; archive: string };

export type RenderResult =
  | { ok: true; renderer: Renderer; manifests: Manifest[]; skippedHooks: SkippedHook[] }
  /** `transient`: the tool timed out or could not start, so the same input may render next time. */
  | { ok: false; message: string; transient: boolean };

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const KUSTOMIZATION_REFERENCES = ['resources', 'bases', 'components', 'generators', 'transformers', 'validators'];
const MANIFEST_FILE = /\.(ya?ml|json)$/;
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

type Checked<T> = ({ ok: true } & T) | { ok: false; message: string };

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    (info) => info.isFile(),
    () => false,
  );
}

async function kustomizationFile(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) if (await isFile(path.join(dir, name))) return path.join(dir, name);
  return undefined;
}

/** Which renderer the folder at `treePath` takes, or why there is nothing to render there. */
export async function rendererAt(root: string, treePath: TreePath): Promise<Checked<{ renderer: Renderer }>> {
  const dir = path.join(root, treePath);
  const info = await stat(dir).catch(() => undefined);
  const shown = treePath === '' ? 'the repository root' : `path ${JSON.stringify(treePath)}`;
  if (info === undefined) return { ok: false, message: `${shown} does not exist in this revision` };
  if (!info.isDirectory()) return { ok: false, message: `${shown} is a file, not a folder` };
  if ((await kustomizationFile(dir)) !== undefined) return { ok: true, renderer: 'kustomize' };
  if (await isFile(path.join(dir, 'Chart.yaml'))) return { ok: true, renderer: 'helm' };
  return { ok: true, renderer: 'manifests' };
}

/** Why a tree's kustomization at `dir` (and every one it reaches) may not be built, or undefined. */
export async function kustomizationProblem(root: string, dir: string, seen = new Set<string>()): Promise<string | undefined> {
  if (seen.has(dir)) return undefined;
  seen.add(dir);
  const file = await kustomizationFile(dir);
  if (file === undefined) return undefined;
  let content: unknown;
  try {
    content = yaml.load(await readFile(file, 'utf8'), { schema: yaml.CORE_SCHEMA });
  } catch {
    return undefined; // kustomize reports its own parse error, with the file named.
  }
  const fields = typeof content === 'object' && content !== null ? (content as Record<string, unknown>) : {};
  for (const field of KUSTOMIZATION_REFERENCES) {
    const entries = fields[field];
    if (!Array.isArray(entries)) continue;
    for (const entry of entries) {
      if (typeof entry !== 'string') continue;
      const target = path.resolve(dir, entry);
      const where = `${path.relative(root, file)} ${field}`;
      if (!isInside(root, target)) return `${where} names ${JSON.stringify(entry)}, which is outside the repository`;
      if ((await stat(target).catch(() => undefined)) === undefined)
        return `${where} names ${JSON.stringify(entry)}, which is not in the repository (the hub does not fetch remote bases)`;
      const deeper = await kustomizationProblem(root, target, seen);
      if (deeper !== undefined) return deeper;
    }
  }
  return undefined;
}

/** Every manifest file under `dir`, in byte order of their paths relative to it. */
async function manifestFiles(root: string, dir: TreePath): Promise<TreePath[]> {
  const files: TreePath[] = [];
  for (const entry of await walkTree(root, dir)) {
    const relative = dir === '' ? entry.path : entry.path.slice(dir.length + 1);
    if (relative.split('/').some((part) => part.startsWith('.')) || !MANIFEST_FILE.test(relative)) continue;
    if (entry.kind === 'file' || (entry.kind === 'symlink' && (await isFile(path.join(root, entry.path))))) files.push(relative);
  }
  return files.sort(compareBytes);
}

/** The plain manifests of a folder (see the module comment). */
export async function readPlainManifests(root: string, dir: TreePath): Promise<Checked<{ manifests: Manifest[] }>> {
  const manifests: Manifest[] = [];
  let bytes = 0;
  const files = await manifestFiles(root, dir);
  if (files.length === 0) return { ok: false, message: `${dir === '' ? 'the repository root' : dir} holds no .yaml, .yml or .json file` };
  for (const file of files) {
    const text = await readFile(path.join(root, dir, file), 'utf8');
    bytes += Buffer.byteLength(text);
    if (bytes > MAX_MANIFEST_BYTES) return { ok: false, message: `the manifests exceed ${MAX_MANIFEST_BYTES} bytes (at ${file})` };
    const parsed = parseManifestDocuments(text);
    if (!parsed.ok) return { ok: false, message: `${file}: ${parsed.message}` };
    manifests.push(...parsed.manifests);
  }
  return { ok: true, manifests };
}

/** A tool's failure as a render error: one line, without helm's "Error:" and "--debug" asides. */
function toolError(tool: ToolName, failure: ToolFailure, sensitive: readonly string[]): RenderResult {
  const message = scrub(failure.message, sensitive)
    .replace(/^Error: /gm, '')
    .replace(/\s*Use --debug flag to render out invalid YAML\s*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return {
    ok: false,
    message: `${tool}: ${message}`,
    transient: failure.kind === 'timeout' || failure.kind === 'not-started' || failure.kind === 'aborted',
  };
}

/** The manifests of helm's output, each document parsed on its own so a problem names its template. */
function parseHelmOutput(stdout: string): Checked<{ manifests: Manifest[] }> {
  const manifests: Manifest[] = [];
  for (const document of stdout.split(/^---[ \t]*$/m)) {
    const parsed = parseManifestDocuments(document);
    if (!parsed.ok) return { ok: false, message: `${/^# Source: (.+)$/m.exec(document)?.[1] ?? 'the output'}: ${parsed.message}` };
    manifests.push(...parsed.manifests);
  }
  return { ok: true, manifests };
}

function clusterScopedCustomKinds(objects: readonly Manifest[]): Set<string> {
  const kinds = new Set<string>();
  for (const object of objects) {
    if (object.kind !== 'CustomResourceDefinition' || !object.apiVersion.startsWith('apiextensions.k8s.io/')) continue;
    const spec = (object.spec ?? {}) as { scope?: string; group?: string; names?: { kind?: string } };
    if (spec.scope === 'Cluster' && spec.names?.kind !== undefined) kinds.add(`${spec.names.kind}.${spec.group ?? ''}`);
  }
  return kinds;
}

/** Gives the release namespace to every object that lacks one and is not known to be cluster-scoped. */
export function withReleaseNamespace<T extends Manifest>(objects: readonly T[], namespace: string): T[] {
  const customClusterScoped = clusterScopedCustomKinds(objects);
  return objects.map((object) => {
    if (object.metadata.namespace !== undefined) return object;
    const slash = object.apiVersion.indexOf('/');
    const group = slash === -1 ? '' : object.apiVersion.slice(0, slash);
    if (isWellKnownClusterScoped({ group, kind: object.kind }) || customClusterScoped.has(`${object.kind}.${group}`)) return object;
    return { ...object, metadata: { ...object.metadata, namespace } };
  });
}

/** Why capabilities cannot be handed to helm as flags, or undefined. */
export function capabilitiesProblem(capabilities: Capabilities): string | undefined {
  if (!/^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.+-]*)?$/.test(capabilities.kubeVersion))
    return `kubeVersion ${JSON.stringify(capabilities.kubeVersion)} is not a Kubernetes version`;
  const bad = capabilities.apiVersions.find((entry) => !/^[A-Za-z0-9.-]+(\/[A-Za-z0-9.-]+){0,2}$/.test(entry));
  return bad === undefined ? undefined : `apiVersions entry ${JSON.stringify(bad)} is not a group/version`;
}

/** helm's arguments: every flag in `--flag=value` form, then `--`, so no input is read as a flag. */
export function helmTemplateArgs(chart: string, input: RenderInput, valuesFile: string): string[] {
  const apiVersions = [...new Set(input.capabilities.apiVersions)].sort();
  return [
    'template',
    `--namespace=${input.namespace}`,
    `--values=${valuesFile}`,
    `--kube-version=${input.capabilities.kubeVersion}`,
    ...apiVersions.map((apiVersion) => `--api-versions=${apiVersion}`),
    ...(input.includeCRDs === false ? [] : ['--include-crds']),
    '--',
    input.releaseName,
    chart,
  ];
}

async function helmTemplate(chart: string, input: RenderInput, runner: ToolRunner): Promise<RenderResult> {
  const problem = capabilitiesProblem(input.capabilities);
  if (problem !== undefined) return { ok: false, message: problem, transient: false };
  const sensitive = input.sensitive ?? [];
  const result = await withScratchDir(async (scratch) => {
    const valuesFile = await writePrivateFile(scratch, 'values.json', JSON.stringify(input.values ?? {}));
    return runner.run({ tool: 'helm', args: helmTemplateArgs(chart, input, valuesFile), scratch, secrets: sensitive, env: NO_NETWORK });
  });
  if (!result.ok) return toolError('helm', result.failure, sensitive);
  const parsed = parseHelmOutput(result.stdout);
  if (!parsed.ok) return { ok: false, message: `helm: ${scrub(parsed.message, sensitive)}`, transient: false };
  const selected = selectHooks(withReleaseNamespace(parsed.manifests, input.namespace), input.includeTests === true);
  return { ok: true, renderer: 'helm', manifests: selected.manifests, skippedHooks: selected.skippedHooks };
}

async function kustomizeBuild(root: string, dir: string, runner: ToolRunner): Promise<RenderResult> {
  const problem = await kustomizationProblem(root, dir);
  if (problem !== undefined) return { ok: false, message: problem, transient: false };
  const result = await withScratchDir((scratch) =>
    runner.run({ tool: 'kustomize', args: ['build', '--load-restrictor=LoadRestrictionsRootOnly', '--', dir], scratch }),
  );
  if (!result.ok) return toolError('kustomize', result.failure, []);
  const parsed = parseManifestDocuments(result.stdout);
  if (!parsed.ok) return { ok: false, message: `kustomize output: ${parsed.message}`, transient: false };
  return { ok: true, renderer: 'kustomize', manifests: parsed.manifests, skippedHooks: [] };
}

async function renderTree(root: string, treePath: TreePath, input: RenderInput, runner: ToolRunner): Promise<RenderResult> {
  const detected = await rendererAt(root, treePath);
  if (!detected.ok) return { ...detected, transient: false };
  const dir = path.join(root, treePath);
  switch (detected.renderer) {
    case 'kustomize':
      return kustomizeBuild(root, dir, runner);
    case 'helm':
      return helmTemplate(dir, input, runner);
    case 'manifests': {
      const read = await readPlainManifests(root, treePath);
      return read.ok ? { ok: true, renderer: 'manifests', manifests: read.manifests, skippedHooks: [] } : { ...read, transient: false };
    }
  }
}

/** Renders a target once, with the real tools (no caching here: see origin.ts). */
export async function renderTarget(target: RenderTarget, input: RenderInput, runner: ToolRunner): Promise<RenderResult> {
  const result =
    target.kind === 'chart' ? await helmTemplate(target.archive, input, runner) : await renderTree(target.root, target.path, input, runner);
  if (result.ok && result.manifests.length === 0) return { ok: false, message: 'the render produced no manifests', transient: false };
  return result;
}
