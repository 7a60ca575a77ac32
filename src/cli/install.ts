// `flotilla install`: applies the flotilla CRDs — the very files in crds/ — to a hub with server-side
// apply and waits until the apiserver serves them, for a quick start without Helm.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import yaml from 'js-yaml';
import { fieldManagers, legacyFieldManager } from '../api/index.js';
import { adoptFieldManager } from '../runtime/field-managers.js';
import { type Kube, type KubeObject, kubeFromDefault, kubeFromFile } from '../runtime/kube.js';

const crdType = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' } as const;
/** A file every flotilla crds/ folder has; it tells that folder from any other. */
const markerFile = 'flotilla.dev_fleets.yaml';

/**
 * The crds/ folder that ships with this code: the nearest ancestor of this module that has one. That
 * is the repository root for src/ and dist/ alike (the bundle), and the package root once installed from npm.
 */
export function crdDirectory(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'crds');
    if (existsSync(join(candidate, markerFile))) return candidate;
    if (dirname(dir) === dir) throw new Error(`no crds/ folder with ${markerFile} above ${from}`);
  }
}

/** The CRDs in `dir`, in file-name order. */
export function readCrds(dir: string): KubeObject[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const crd = yaml.load(readFileSync(join(dir, file), 'utf8')) as KubeObject | undefined;
      if (crd?.kind !== crdType.kind) throw new Error(`${join(dir, file)} is not a CustomResourceDefinition`);
      return crd;
    });
}

interface CrdCondition {
  type: string;
  status: string;
  message?: string;
}

function condition(crd: KubeObject, type: string): CrdCondition | undefined {
  const status = crd.status as { conditions?: CrdCondition[] } | undefined;
  return status?.conditions?.find((candidate) => candidate.type === type);
}

/**
 * Resolves once the CRD is Established (its resource is served); throws when the apiserver refuses
 * its names, which no wait would fix. Watches rather than polls; a watch the server ends is resumed.
 */
async function waitEstablished(kube: Kube, name: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    for await (const event of kube.watch(crdType, { name, timeoutSeconds: 60, signal })) {
      if (event.type === 'BOOKMARK' || event.type === 'DELETED') continue;
      if (condition(event.object, 'Established')?.status === 'True') return;
      const names = condition(event.object, 'NamesAccepted');
      if (names?.status === 'False') throw new Error(`CRD ${name} is not accepted: ${names.message ?? 'names conflict'}`);
    }
  }
}

export interface InstallOptions {
  /** How long to wait for all CRDs to be Established. */
  timeoutMs: number;
  /** Called once per CRD when it is Established. */
  onEstablished?: (name: string) => void;
}

/**
 * Applies the CRDs with server-side apply as field manager `flotilla-cli` (forcing, since these
 * files are the source of truth for the CRDs), then waits until every one is Established. A CRD an
 * older flotilla installed as `flotilla` is made `flotilla-cli`'s first, so a field the new file
 * drops is removed.
 */
export async function installCrds(kube: Kube, crds: readonly KubeObject[], options: InstallOptions): Promise<void> {
  for (const crd of crds) {
    const live = await kube.getOrNull(crd, crd.metadata.name ?? '');
    if (live) await adoptFieldManager(kube, live, legacyFieldManager, fieldManagers.cli, AbortSignal.timeout(options.timeoutMs));
    await kube.apply(crd, { fieldManager: fieldManagers.cli, force: true });
  }
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    // One after another, so the output keeps the files' order; the apiserver establishes them all
    // meanwhile, so this takes no longer than the slowest.
    for (const crd of crds) {
      const name = crd.metadata.name ?? '';
      await waitEstablished(kube, name, signal);
      options.onEstablished?.(name);
    }
  } catch (error) {
    if (signal.aborted) throw new Error(`the CRDs were not Established within ${options.timeoutMs / 1000}s`);
    throw error;
  }
}

interface InstallFlags {
  kubeconfig?: string;
  context?: string;
  timeout: string;
}

/** Registers `flotilla install`. */
export function registerInstall(program: Command): void {
  program
    .command('install')
    .description('Apply the flotilla CRDs to a hub cluster and wait until they are Established.')
    .option('--kubeconfig <path>', 'kubeconfig of the hub (default: $KUBECONFIG, ~/.kube/config or in-cluster)')
    .option('--context <name>', 'context of --kubeconfig to use')
    .option('--timeout <seconds>', 'how long to wait for the CRDs to be Established', '60')
    .action(async (flags: InstallFlags) => {
      const timeoutSeconds = Number(flags.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
        throw new Error(`--timeout must be a positive number of seconds, not ${flags.timeout}`);
      const kube = flags.kubeconfig === undefined ? kubeFromDefault() : kubeFromFile(flags.kubeconfig, flags.context);
      try {
        await installCrds(kube, readCrds(crdDirectory()), {
          timeoutMs: timeoutSeconds * 1000,
          onEstablished: (name) => process.stdout.write(`customresourcedefinition/${name} established\n`),
        });
      } finally {
        kube.close();
      }
    });
}
