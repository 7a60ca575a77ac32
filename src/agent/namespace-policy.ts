// The spoke's namespaces as the Work sets' policies see them. The namespace informer starts with
// the first Work that carries a policy; its events re-expand every policy set, so a new,
// relabelled or deleted namespace gets or loses its copies of the templates (and its labels) at
// once, with or without the hub. What a policy may write into a namespace is the fleet's call.
import type { Manifest, WorkPolicy } from '../api/index.js';
import { jsonEqual } from '../runtime/conditions.js';
import { createInformer, type Informer } from '../runtime/informer.js';
import type { Kube } from '../runtime/kube.js';
import type { Logger } from '../runtime/log.js';
import { namespaceAdmitted, type AdmissionRules } from '../work/admission.js';
import type { DesiredCopy } from './local-copy.js';
import {
  applyNamespaceLabels,
  namespaceInfo,
  namespaceLabelManager,
  planNamespaceLabels,
  restrictPolicy,
  withTemplates,
  type NamespaceInfo,
  type PolicyShellContext,
} from './policy.js';
import type { SpokeCache } from './spoke-cache.js';
import type { ManifestResult } from './status.js';

const NAMESPACE_TYPE = { apiVersion: 'v1', kind: 'Namespace' } as const;

export interface NamespacePolicies {
  /** A set's manifests for this cluster: the Work's own plus its policy's templates in every selected namespace. */
  expand(set: string, own: Manifest[], policy: WorkPolicy | undefined): Promise<Pick<DesiredCopy, 'manifests' | 'policy'>>;
  /** The namespaces' policy labels as `policy` wants them (none: ours removed); results for the selected. */
  labelNamespaces(set: string, policy: WorkPolicy | undefined): Promise<ManifestResult[]>;
  /** Whether the set has a policy whose templates or labels may be in place. */
  has(set: string): boolean;
  /** A set known to carry a policy (from its local copy), before any expansion. */
  note(set: string): void;
  forget(set: string): void;
}

export function createNamespacePolicies(options: {
  spoke: Kube;
  cache: SpokeCache;
  rulesOf: (set: string) => AdmissionRules;
  logger: Logger;
  signal: AbortSignal;
  /** A namespace changed: each of these sets deserves a look. */
  onChange: (sets: Iterable<string>) => void;
}): NamespacePolicies {
  const { spoke, logger, signal } = options;
  const policySets = new Set<string>();
  const context: PolicyShellContext = { kube: spoke, cache: options.cache, signal, logger };
  let namespaces: Informer | undefined;
  const changed = (): void => {
    options.onChange(policySets);
  };

  async function namespaceCache(): Promise<Informer> {
    if (!namespaces) {
      namespaces = createInformer({ kube: spoke, type: NAMESPACE_TYPE, logger });
      namespaces.addHandler({
        onAdd: changed,
        onUpdate: (old, current) => {
          const relabelled = !jsonEqual(old.metadata.labels, current.metadata.labels);
          if (relabelled || old.metadata.deletionTimestamp !== current.metadata.deletionTimestamp) changed();
        },
        onDelete: changed,
      });
      void namespaces.run(signal);
    }
    await namespaces.waitForSync(signal);
    return namespaces;
  }

  async function namespaceInfos(set: string): Promise<NamespaceInfo[]> {
    const manager = namespaceLabelManager(set);
    return (await namespaceCache()).store.list().map((ns) => namespaceInfo(ns, manager));
  }

  /** The policy as the fleet lets it write into the spoke's namespaces now. */
  const allowed = (set: string, policy: WorkPolicy, infos: readonly NamespaceInfo[]): WorkPolicy => {
    const rules = options.rulesOf(set);
    return restrictPolicy(policy, infos, (namespace) => namespaceAdmitted(namespace, rules));
  };

  return {
    async expand(set, own, policy) {
      if (policy === undefined) return { manifests: own };
      policySets.add(set);
      const infos = await namespaceInfos(set);
      const expanded = withTemplates(own, allowed(set, policy, infos), infos);
      return { manifests: expanded.manifests, policy: { ...expanded.policy, spec: policy } };
    },
    async labelNamespaces(set, policy) {
      const infos = await namespaceInfos(set);
      const results = await applyNamespaceLabels(context, set, planNamespaceLabels(policy && allowed(set, policy, infos), infos));
      if (policy === undefined) policySets.delete(set);
      return results;
    },
    has: (set) => policySets.has(set),
    note: (set) => {
      policySets.add(set);
    },
    forget: (set) => {
      policySets.delete(set);
    },
  };
}
