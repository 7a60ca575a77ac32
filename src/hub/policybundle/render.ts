// A PolicyBundle as Work content: the cluster-scoped policies (ClusterRoles and bindings, admission
// policies and bindings) as manifests, the namespaced ones (Roles, bindings, quotas, limit ranges,
// network policies, Pod Security labels) as a policy section the agent stamps into the spoke's
// matching namespaces (src/agent/policy.ts). Pure.
import { type Manifest, type PolicyBundle, type WorkPolicy } from '../../api/index.js';
import { SYSTEM_NAMESPACES } from '../../work/admission.js';
import { digestOf } from '../../runtime/index.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const ADMISSION = 'admissionregistration.k8s.io/v1';
const POD_SECURITY = 'pod-security.kubernetes.io';

export interface RenderedBundle {
  /** Cluster-scoped policy objects, applied once per cluster. */
  manifests: Manifest[];
  /** The namespaced part, for the agent to stamp into matching namespaces. */
  policy: WorkPolicy;
  /** A digest of both: the bundle's revision. */
  revision: string;
}

const object = (apiVersionOf: string, kind: string, name: string, rest: Record<string, unknown>): Manifest => ({
  apiVersion: apiVersionOf,
  kind,
  metadata: { name },
  ...rest,
});

/** The Pod Security labels of a bundle's levels (version defaults to latest for each level set). */
export function podSecurityLabels(bundle: Pick<PolicyBundle, 'spec'>): Record<string, string> {
  const levels = bundle.spec.podSecurity;
  if (!levels) return {};
  const out: Record<string, string> = {};
  for (const mode of ['enforce', 'audit', 'warn'] as const) {
    const level = levels[mode];
    if (level === undefined) continue;
    out[`${POD_SECURITY}/${mode}`] = level;
    out[`${POD_SECURITY}/${mode}-version`] = levels.version ?? 'latest';
  }
  return out;
}

/** A bundle as one cluster's Work content: cluster-scoped manifests and the namespaced templates. */
export function renderPolicyBundle(bundle: Pick<PolicyBundle, 'spec'>): RenderedBundle {
  const { spec } = bundle;
  const manifests: Manifest[] = [
    ...(spec.rbac?.clusterRoles ?? []).map((r) => object(RBAC, 'ClusterRole', r.name, { rules: r.rules })),
    ...(spec.rbac?.clusterRoleBindings ?? []).map((b) =>
      object(RBAC, 'ClusterRoleBinding', b.name, {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...b.roleRef },
        subjects: b.subjects,
      }),
    ),
    ...(spec.admission?.policies ?? []).map((p) => object(ADMISSION, 'ValidatingAdmissionPolicy', p.name, { spec: p.spec })),
    ...(spec.admission?.bindings ?? []).map((b) =>
      object(ADMISSION, 'ValidatingAdmissionPolicyBinding', b.name, {
        spec: {
          policyName: b.policyName,
          validationActions: b.validationActions,
          ...(b.matchResources ? { matchResources: b.matchResources } : {}),
          ...(b.paramRef ? { paramRef: b.paramRef } : {}),
        },
      }),
    ),
  ];
  const templates: Manifest[] = [
    ...(spec.rbac?.roles ?? []).map((r) => object(RBAC, 'Role', r.name, { rules: r.rules })),
    ...(spec.rbac?.roleBindings ?? []).map((b) =>
      object(RBAC, 'RoleBinding', b.name, { roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...b.roleRef }, subjects: b.subjects }),
    ),
    ...(spec.networkPolicies ?? []).map((n) => object('networking.k8s.io/v1', 'NetworkPolicy', n.name, { spec: n.spec })),
    ...(spec.resourceQuotas ?? []).map((q) =>
      object('v1', 'ResourceQuota', q.name, { spec: { hard: q.hard, ...(q.scopes ? { scopes: q.scopes } : {}) } }),
    ),
    ...(spec.limitRanges ?? []).map((l) => object('v1', 'LimitRange', l.name, { spec: { limits: l.limits } })),
  ];
  const namespaceLabels = podSecurityLabels(bundle);
  const policy: WorkPolicy = {
    mode: spec.mode ?? 'Enforce',
    ...(spec.namespaceSelector ? { namespaceSelector: spec.namespaceSelector } : {}),
    excludeNamespaces: spec.excludeNamespaces ?? [...SYSTEM_NAMESPACES],
    ...(templates.length > 0 ? { namespaceTemplates: templates } : {}),
    ...(Object.keys(namespaceLabels).length > 0 ? { namespaceLabels } : {}),
  };
  const revision = digestOf({ manifests, policy }).slice(0, 16);
  return { manifests, policy, revision };
}
