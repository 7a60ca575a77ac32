import { flotillaNamespace, type FleetRestrictions, type KindRef, type Manifest, type SourceRestrictions } from '../api/index.js';
import { isRecord, type KubeObject } from '../runtime/kube.js';
import { identityKey, manifestIdentity, type ManifestIdentity, type ScopeResolver } from './identity.js';

// Whether a manifest may ship: one decision, made by the hub when it renders a source and by the
// agent before it applies a Work, so that a Work written to the hub by hand meets the same rules.
// Two layers, in this order:
//  - the agent's protection, built in and not configurable: nothing may touch the agent's own
//    namespace (its bootstrap Secret, its local copies, its ServiceAccount, Deployment and Roles)
//    or its cluster-scoped RBAC (ClusterRoles and ClusterRoleBindings named flotilla-agent*), so no
//    Work can make the agent adopt, change or prune the objects it runs on;
//  - the fleet's restrictions (Fleet spec.restrictions) for the source's kind: kinds, target
//    namespaces and RBAC that grants too much.

export type SourceKind = 'GlobalService' | 'PolicyBundle';

/** The system namespaces; the default of deniedNamespaces, as the Fleet schema declares it. */
export const SYSTEM_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease', flotillaNamespace];

/** The fleet's restrictions with the schema's defaults filled in, per source kind (equal to fleet.yaml's defaults). */
export const DEFAULT_RESTRICTIONS: Readonly<Record<SourceKind, SourceRestrictions>> = {
  GlobalService: {
    deniedNamespaces: [...SYSTEM_NAMESPACES],
    deniedKinds: [{ group: 'admissionregistration.k8s.io', kind: '*' }],
    rbac: 'Restricted',
  },
  PolicyBundle: { deniedNamespaces: [...SYSTEM_NAMESPACES], rbac: 'Restricted' },
};

/** The name prefix of the agent's cluster-scoped RBAC (what the agent's install creates). */
export const AGENT_RBAC_PREFIX = 'flotilla-agent';

export interface AdmissionRules {
  kind: SourceKind;
  /** The section of the source's kind, fields left out taking their defaults. */
  restrictions: SourceRestrictions;
  /** The agent's namespaces: flotilla-system, and the agent's own system namespace if elsewhere. */
  protectedNamespaces: readonly string[];
}

/** The rules for a source kind under a fleet's restrictions (undefined: the defaults). */
export function admissionRules(
  kind: SourceKind,
  restrictions: FleetRestrictions | undefined,
  protectedNamespaces: readonly string[] = [flotillaNamespace],
): AdmissionRules {
  const section = kind === 'GlobalService' ? restrictions?.globalServices : restrictions?.policyBundles;
  return {
    kind,
    restrictions: { ...DEFAULT_RESTRICTIONS[kind], ...section },
    protectedNamespaces: [...new Set([flotillaNamespace, ...protectedNamespaces])],
  };
}

export type Verdict = { allowed: true } | { allowed: false; rule: string; message: string };

const ALLOWED: Verdict = { allowed: true };
const RBAC_GROUP = 'rbac.authorization.k8s.io';
const ESCALATING_VERBS = ['escalate', 'bind', 'impersonate'];

/** Whether `name` matches a NamespacePattern: exact, or a prefix ending in "*". */
export function namespaceMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

const kindMatches = (ref: KindRef, identity: ManifestIdentity): boolean =>
  (ref.group === '*' || ref.group === identity.group) && (ref.kind === '*' || ref.kind === identity.kind);

/** The namespace a manifest writes into: its own, or the one a Namespace object is; '' for other cluster-scoped objects. */
function targetNamespace(identity: ManifestIdentity): string {
  return identity.group === '' && identity.kind === 'Namespace' ? identity.name : identity.namespace;
}

function refuse(kind: SourceKind, field: string, reason: string): Verdict {
  const section = kind === 'GlobalService' ? 'globalServices' : 'policyBundles';
  return { allowed: false, rule: `restrictions.${section}.${field}`, message: reason };
}

/** The agent's namespaces, then the fleet's namespace rules, for a namespace a manifest writes into. */
function namespaceVerdict(namespace: string, rules: AdmissionRules): Verdict {
  if (rules.protectedNamespaces.includes(namespace)) {
    return { allowed: false, rule: 'agentProtection', message: agentNamespaceMessage(namespace) };
  }
  const { restrictions, kind } = rules;
  if (restrictions.deniedNamespaces?.some((p) => namespaceMatches(p, namespace)))
    return refuse(kind, 'deniedNamespaces', `namespace ${namespace} is denied`);
  if (restrictions.allowedNamespaces && !restrictions.allowedNamespaces.some((p) => namespaceMatches(p, namespace)))
    return refuse(kind, 'allowedNamespaces', `namespace ${namespace} is not allowed`);
  return ALLOWED;
}

const isAgentRbac = (identity: ManifestIdentity): boolean =>
  identity.group === RBAC_GROUP &&
  (identity.kind === 'ClusterRole' || identity.kind === 'ClusterRoleBinding') &&
  identity.name.startsWith(AGENT_RBAC_PREFIX);

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** Why an RBAC manifest grants more than Restricted allows, or undefined. */
export function rbacExcess(manifest: KubeObject, identity: ManifestIdentity): string | undefined {
  if (identity.group !== RBAC_GROUP) return undefined;
  if (identity.kind === 'RoleBinding' || identity.kind === 'ClusterRoleBinding') {
    const roleRef = manifest.roleRef;
    if (isRecord(roleRef) && roleRef.kind === 'ClusterRole' && roleRef.name === 'cluster-admin')
      return 'it binds the ClusterRole cluster-admin';
    return undefined;
  }
  if (identity.kind !== 'Role' && identity.kind !== 'ClusterRole') return undefined;
  const rules = Array.isArray(manifest.rules) ? manifest.rules : [];
  for (const [index, rule] of rules.entries()) {
    if (!isRecord(rule)) continue;
    const verbs = strings(rule.verbs);
    if (verbs.includes('*') && strings(rule.resources).includes('*')) return `rules[${index}] grants "*" verbs on "*" resources`;
    const escalating = verbs.filter((verb) => ESCALATING_VERBS.includes(verb));
    if (escalating.length > 0) return `rules[${index}] grants the ${escalating.join(', ')} verb${escalating.length > 1 ? 's' : ''}`;
  }
  return undefined;
}

/**
 * Why an object is the agent's own and must never be touched, pruning included (an inventory from
 * before this protection may name it), or undefined.
 */
export function agentProtected(
  object: KubeObject,
  protectedNamespaces: readonly string[],
  resolveScope?: ScopeResolver,
): string | undefined {
  const identity = manifestIdentity(object, resolveScope);
  if (isAgentRbac(identity)) return `${identity.kind} ${identity.name} is the flotilla agent's own RBAC (${AGENT_RBAC_PREFIX}*)`;
  const namespace = targetNamespace(identity);
  return namespace !== '' && protectedNamespaces.includes(namespace) ? agentNamespaceMessage(namespace) : undefined;
}

const agentNamespaceMessage = (namespace: string): string =>
  `namespace ${namespace} is the flotilla agent's own: its bootstrap Secret, local copies and workload live there`;

/** Whether one manifest may ship under `rules`, and if not, the rule and the reason. */
export function admitManifest(manifest: KubeObject, rules: AdmissionRules, resolveScope?: ScopeResolver): Verdict {
  // The agent's own objects first: no restriction an admin lifts may open them.
  const protection = agentProtected(manifest, rules.protectedNamespaces, resolveScope);
  if (protection !== undefined) return { allowed: false, rule: 'agentProtection', message: protection };
  const identity = manifestIdentity(manifest, resolveScope);
  const namespace = targetNamespace(identity);
  const { restrictions, kind } = rules;
  const kindName = `${identity.kind}${identity.group === '' ? '' : `.${identity.group}`}`;
  if (restrictions.deniedKinds?.some((ref) => kindMatches(ref, identity))) return refuse(kind, 'deniedKinds', `kind ${kindName} is denied`);
  if (restrictions.allowedKinds && !restrictions.allowedKinds.some((ref) => kindMatches(ref, identity)))
    return refuse(kind, 'allowedKinds', `kind ${kindName} is not allowed`);
  if (namespace !== '') {
    const verdict = namespaceVerdict(namespace, rules);
    if (!verdict.allowed) return verdict;
  }
  if (restrictions.rbac !== 'Unrestricted') {
    const excess = rbacExcess(manifest, identity);
    if (excess !== undefined) return refuse(kind, 'rbac', excess);
  }
  return ALLOWED;
}

/** Whether a source may write into a namespace at all: a PolicyBundle stamps only where this holds. */
export function namespaceAdmitted(namespace: string, rules: AdmissionRules): boolean {
  return namespaceVerdict(namespace, rules).allowed;
}

export interface Refusal {
  /** The manifest's position in the list it was judged in. */
  index: number;
  identity: ManifestIdentity;
  rule: string;
  /** Names the manifest, the reason and the rule, e.g. `ClusterRoleBinding.rbac.authorization.k8s.io/x: it binds ... (restrictions.globalServices.rbac)`. */
  message: string;
}

/** Every refused manifest of a list, in order. */
export function refusals(manifests: readonly Manifest[], rules: AdmissionRules, resolveScope?: ScopeResolver): Refusal[] {
  return manifests.flatMap((manifest, index) => {
    const verdict = admitManifest(manifest, rules, resolveScope);
    if (verdict.allowed) return [];
    const identity = manifestIdentity(manifest, resolveScope);
    return [{ index, identity, rule: verdict.rule, message: `${identityKey(identity)}: ${verdict.message} (${verdict.rule})` }];
  });
}

/** The refusals as one condition message: the first few named, then how many more. */
export function describeRefusals(found: readonly Refusal[], shown = 3): string {
  const named = found
    .slice(0, shown)
    .map((r) => r.message)
    .join('; ');
  const more = found.length > shown ? `; and ${found.length - shown} more` : '';
  return `${found.length} manifest${found.length === 1 ? '' : 's'} refused by the fleet's restrictions: ${named}${more}`;
}
