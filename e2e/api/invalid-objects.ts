// Objects the flotilla API must refuse, each with the field the refusal names and what it says.
// The same table drives the apiserver (kubectl apply) and the ajv validators.
import type { Kind } from '../../src/api/index.js';

export interface InvalidObject {
  /** What is wrong, in words; the test's name. */
  name: string;
  kind: Kind;
  object: Record<string, unknown>;
  /** The field the refusal names, as the apiserver prints it. */
  field: string;
  /** What the apiserver says about that field (a part of its message). */
  message: string;
  /**
   * Whether a CEL rule refuses it: then the ajv validator reports the same message; the OpenAPI
   * keywords' messages are worded by each side differently, so only the field is compared.
   */
  cel: boolean;
}

export interface InvalidUpdate {
  name: string;
  kind: Kind;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  field: string;
  message: string;
}

const apiVersion = 'flotilla.dev/v1alpha1';
const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'prod' } };
const gitURL = 'https://git.example/platform/web.git';

export function fleet(spec?: Record<string, unknown>, name = 'invalid'): Record<string, unknown> {
  return { apiVersion, kind: 'Fleet', metadata: { name }, ...(spec === undefined ? {} : { spec }) };
}

export function memberCluster(spec: Record<string, unknown>, name = 'invalid'): Record<string, unknown> {
  return { apiVersion, kind: 'MemberCluster', metadata: { name }, spec };
}

/** Builders of namespaced objects, bound to the namespace a test runs in. */
export function namespacedBuilders(namespace: string) {
  // Through JSON, so that a field a case sets to undefined is absent for kubectl and ajv alike.
  const object = (kind: Kind, spec: Record<string, unknown>, name = 'invalid'): Record<string, unknown> =>
    JSON.parse(JSON.stringify({ apiVersion, kind, metadata: { name, namespace }, spec })) as Record<string, unknown>;
  return {
    clusterGroup: (spec: Record<string, unknown>) => object('ClusterGroup', spec),
    /** A valid GlobalService with `spec` merged over it. */
    globalService: (spec: Record<string, unknown>, name?: string) =>
      object('GlobalService', { placement: { clusterNames: ['eu-west-1'] }, source: { manifests: [configMap] }, ...spec }, name),
    /** A valid PolicyBundle with `spec` merged over it. */
    policyBundle: (spec: Record<string, unknown>) =>
      object('PolicyBundle', { placement: { clusterSelector: {} }, namespaceSelector: {}, podSecurity: { enforce: 'baseline' }, ...spec }),
    /** A valid Work with `spec` merged over it. */
    work: (spec: Record<string, unknown>, name?: string) =>
      object(
        'Work',
        {
          source: { kind: 'GlobalService', namespace: 'fleet-prod', name: 'web', generation: 1, revision: 'r1' },
          manifests: [configMap],
          ...spec,
        },
        name,
      ),
  };
}

const stage = (name: string, extra: Record<string, unknown> = {}) => ({ name, clusterGroup: 'canary', ...extra });
const patch = (operation: Record<string, unknown>) => [{ target: { kind: 'ConfigMap' }, operations: [operation] }];
const longName = (length: number) => 'c'.repeat(length);

export function invalidObjects(namespace: string): InvalidObject[] {
  const { clusterGroup, globalService, policyBundle, work } = namespacedBuilders(namespace);
  const schema = (name: string, kind: Kind, object: Record<string, unknown>, field: string, message: string): InvalidObject => ({
    name,
    kind,
    object,
    field,
    message,
    cel: false,
  });
  const rule = (name: string, kind: Kind, object: Record<string, unknown>, field: string, message: string): InvalidObject => ({
    name,
    kind,
    object,
    field,
    message,
    cel: true,
  });
  return [
    // Fleet
    schema('a Fleet name longer than 57 characters', 'Fleet', fleet({}, longName(58)), 'metadata.name', 'Too long'),
    schema(
      'a workspace namespace that is not a DNS label',
      'Fleet',
      fleet({ workspaceNamespace: 'Fleet_Prod' }),
      'spec.workspaceNamespace',
      'should match',
    ),
    schema(
      'a heartbeat timeout that is not a duration',
      'Fleet',
      fleet({ heartbeatTimeout: '5 minutes' }),
      'spec.heartbeatTimeout',
      'should match',
    ),
    rule(
      'a heartbeat timeout under 10s',
      'Fleet',
      fleet({ heartbeatTimeout: '1s' }),
      'spec.heartbeatTimeout',
      'heartbeatTimeout must be between 10s and 24h',
    ),
    schema(
      'a Staged fleet default (stages are per service)',
      'Fleet',
      fleet({ rollout: { strategy: 'Staged' } }),
      'spec.rollout.strategy',
      'Unsupported value',
    ),
    rule(
      'maxUnavailable with AllAtOnce',
      'Fleet',
      fleet({ rollout: { strategy: 'AllAtOnce', maxUnavailable: 2 } }),
      'spec.rollout.maxUnavailable',
      'maxUnavailable is only allowed with strategy RollingUpdate',
    ),
    schema('an unknown drift policy', 'Fleet', fleet({ driftPolicy: 'Ignore' }), 'spec.driftPolicy', 'Unsupported value'),
    schema(
      'a progress deadline under 30 seconds',
      'Fleet',
      fleet({ rollout: { progressDeadlineSeconds: 10 } }),
      'spec.rollout.progressDeadlineSeconds',
      'greater than or equal to 30',
    ),
    rule(
      'a namespace both allowed and denied',
      'Fleet',
      fleet({ restrictions: { globalServices: { allowedNamespaces: ['web'], deniedNamespaces: ['web'] } } }),
      'spec.restrictions.globalServices.allowedNamespaces',
      'a namespace cannot be both allowed and denied',
    ),
    rule(
      'a kind both allowed and denied',
      'Fleet',
      fleet({
        restrictions: { policyBundles: { allowedKinds: [{ group: '', kind: 'Secret' }], deniedKinds: [{ group: '', kind: 'Secret' }] } },
      }),
      'spec.restrictions.policyBundles.allowedKinds',
      'a kind cannot be both allowed and denied',
    ),
    schema(
      'a namespace pattern with a * inside',
      'Fleet',
      fleet({ restrictions: { globalServices: { deniedNamespaces: ['kube-*-x'] } } }),
      'spec.restrictions.globalServices.deniedNamespaces[0]',
      'should match',
    ),
    schema(
      'an unknown rbac mode',
      'Fleet',
      fleet({ restrictions: { globalServices: { rbac: 'Lenient' } } }),
      'spec.restrictions.globalServices.rbac',
      'Unsupported value',
    ),

    // MemberCluster
    schema('a MemberCluster without a fleet', 'MemberCluster', memberCluster({ paused: true }), 'spec.fleet', 'Required value'),
    schema(
      'a cluster name too long for flotilla-member-NAME',
      'MemberCluster',
      memberCluster({ fleet: 'prod' }, longName(48)),
      'metadata.name',
      'Too long',
    ),
    schema('a cluster name with a dot', 'MemberCluster', memberCluster({ fleet: 'prod' }, 'eu.west'), 'metadata.name', 'should match'),
    schema('a fleet name in capitals', 'MemberCluster', memberCluster({ fleet: 'Prod' }), 'spec.fleet', 'should match'),
    schema('an unknown field', 'MemberCluster', memberCluster({ fleet: 'prod', region: 'eu' }), 'spec.region', 'unknown field'),
    schema(
      'paused as a string',
      'MemberCluster',
      memberCluster({ fleet: 'prod', paused: 'yes' }),
      'spec.paused',
      'must be of type boolean',
    ),

    // ClusterGroup
    rule(
      'a ClusterGroup that selects nothing',
      'ClusterGroup',
      clusterGroup({ excludeClusterNames: ['a'] }),
      'spec',
      'a ClusterGroup must set clusterSelector or clusterNames',
    ),
    rule(
      'an In requirement without values',
      'ClusterGroup',
      clusterGroup({ clusterSelector: { matchExpressions: [{ key: 'region', operator: 'In' }] } }),
      'spec.clusterSelector.matchExpressions[0].values',
      'values must be non-empty for In and NotIn',
    ),
    schema(
      'an unknown selector operator',
      'ClusterGroup',
      clusterGroup({ clusterSelector: { matchExpressions: [{ key: 'region', operator: 'Contains', values: ['eu'] }] } }),
      'spec.clusterSelector.matchExpressions[0].operator',
      'Unsupported value',
    ),
    schema('a member name too long', 'ClusterGroup', clusterGroup({ clusterNames: [longName(48)] }), 'spec.clusterNames[0]', 'Too long'),

    // GlobalService
    rule(
      'two kinds of source',
      'GlobalService',
      globalService({ source: { manifests: [configMap], configMapRefs: [{ name: 'web' }] } }),
      'spec.source',
      'source must set exactly one of manifests, configMapRefs, git or helm',
    ),
    rule(
      'no source',
      'GlobalService',
      globalService({ source: {} }),
      'spec.source',
      'source must set exactly one of manifests, configMapRefs, git or helm',
    ),
    rule(
      'a Git origin and inline manifests',
      'GlobalService',
      globalService({ source: { manifests: [configMap], git: { url: gitURL } } }),
      'spec.source',
      'source must set exactly one of manifests, configMapRefs, git or helm',
    ),
    rule(
      'a Git origin and a Helm chart repository',
      'GlobalService',
      globalService({ source: { git: { url: gitURL }, helm: { repoURL: 'https://charts.example', chart: 'web' } } }),
      'spec.source',
      'source must set exactly one of manifests, configMapRefs, git or helm',
    ),
    rule(
      'chart settings for inline manifests',
      'GlobalService',
      globalService({ source: { manifests: [configMap], chart: { releaseName: 'web' } } }),
      'spec.source',
      'source.chart configures a Helm render, so it needs source.helm or source.git',
    ),
    rule(
      'a Git ref naming both a branch and a tag',
      'GlobalService',
      globalService({ source: { git: { url: gitURL, ref: { branch: 'main', tag: 'v1.0.0' } } } }),
      'spec.source.git.ref',
      'ref sets at most one of branch, tag, semver or commit',
    ),
    rule(
      'a Git path climbing out of the repository',
      'GlobalService',
      globalService({ source: { git: { url: gitURL, path: 'deploy/../../etc' } } }),
      'spec.source.git.path',
      'path must be relative to the repository and may not contain .. segments',
    ),
    schema(
      'a Git URL of an unknown transport',
      'GlobalService',
      globalService({ source: { git: { url: 'ext::sh -c touch% /tmp/pwned' } } }),
      'spec.source.git.url',
      'should match',
    ),
    schema(
      'a chart repository over ftp',
      'GlobalService',
      globalService({ source: { helm: { repoURL: 'ftp://charts.example', chart: 'web' } } }),
      'spec.source.helm.repoURL',
      'should match',
    ),
    schema(
      'a manifest without a name',
      'GlobalService',
      globalService({ source: { manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }] } }),
      'spec.source.manifests[0].metadata.name',
      'Required value',
    ),
    schema(
      'a manifest without a kind',
      'GlobalService',
      globalService({ source: { manifests: [{ apiVersion: 'v1', metadata: { name: 'a' } }] } }),
      'spec.source.manifests[0].kind',
      'Required value',
    ),
    rule(
      'a placement that selects nothing',
      'GlobalService',
      globalService({ placement: {} }),
      'spec.placement',
      'placement must set clusterGroups, clusterSelector or clusterNames',
    ),
    rule(
      'Staged without stages',
      'GlobalService',
      globalService({ rollout: { strategy: 'Staged' } }),
      'spec.rollout.stages',
      'stages is required when strategy is Staged',
    ),
    rule(
      'stages without Staged',
      'GlobalService',
      globalService({ rollout: { strategy: 'RollingUpdate', stages: [stage('canary')] } }),
      'spec.rollout.stages',
      'stages is required when strategy is Staged, and only allowed then',
    ),
    rule(
      'maxUnavailable above 100%',
      'GlobalService',
      globalService({ rollout: { strategy: 'RollingUpdate', maxUnavailable: '150%' } }),
      'spec.rollout.maxUnavailable',
      'maxUnavailable must be a count of at least 1 or a percentage',
    ),
    rule(
      'maxUnavailable of 0',
      'GlobalService',
      globalService({ rollout: { maxUnavailable: 0 } }),
      'spec.rollout.maxUnavailable',
      'maxUnavailable must be a count of at least 1 or a percentage',
    ),
    rule(
      'maxUnavailable with Staged',
      'GlobalService',
      globalService({ rollout: { strategy: 'Staged', maxUnavailable: 1, stages: [stage('canary')] } }),
      'spec.rollout.maxUnavailable',
      'maxUnavailable is only allowed with strategy RollingUpdate',
    ),
    rule(
      'a stage with both a group and a selector',
      'GlobalService',
      globalService({ rollout: { strategy: 'Staged', stages: [stage('canary', { clusterSelector: {} })] } }),
      'spec.rollout.stages[0]',
      'a stage must set exactly one of clusterGroup or clusterSelector',
    ),
    rule(
      'a stage with both a pause and an approval',
      'GlobalService',
      globalService({ rollout: { strategy: 'Staged', stages: [stage('canary', { pause: { duration: '5m' }, approval: {} })] } }),
      'spec.rollout.stages[0]',
      'a stage may wait for a pause or an approval, not both',
    ),
    rule(
      'a stage pause over a week',
      'GlobalService',
      globalService({ rollout: { strategy: 'Staged', stages: [stage('canary', { pause: { duration: '200h' } })] } }),
      'spec.rollout.stages[0].pause.duration',
      'pause duration must be between 1s and 168h',
    ),
    schema(
      'a progress deadline over a day',
      'GlobalService',
      globalService({ rollout: { progressDeadlineSeconds: 100000 } }),
      'spec.rollout.progressDeadlineSeconds',
      'less than or equal to 86400',
    ),
    schema('an unknown adoption policy', 'GlobalService', globalService({ adoption: 'Sometimes' }), 'spec.adoption', 'Unsupported value'),
    schema(
      'an unknown deletion policy',
      'GlobalService',
      globalService({ deletionPolicy: 'Keep' }),
      'spec.deletionPolicy',
      'Unsupported value',
    ),
    rule(
      'an override without a target',
      'GlobalService',
      globalService({ overrides: [{ name: 'o', patches: patch({ op: 'remove', path: '/data' }) }] }),
      'spec.overrides[0]',
      'an override must set exactly one of clusterGroup, clusterSelector or clusterNames',
    ),
    schema(
      'an unknown patch operation',
      'GlobalService',
      globalService({ overrides: [{ name: 'o', clusterGroup: 'canary', patches: patch({ op: 'merge', path: '/data' }) }] }),
      'spec.overrides[0].patches[0].operations[0].op',
      'Unsupported value',
    ),
    rule(
      'a move without from',
      'GlobalService',
      globalService({ overrides: [{ name: 'o', clusterGroup: 'canary', patches: patch({ op: 'move', path: '/data/b' }) }] }),
      'spec.overrides[0].patches[0].operations[0].from',
      'from is required for move and copy',
    ),
    schema(
      'a patch path that is not a JSON pointer',
      'GlobalService',
      globalService({ overrides: [{ name: 'o', clusterGroup: 'canary', patches: patch({ op: 'remove', path: 'data' }) }] }),
      'spec.overrides[0].patches[0].operations[0].path',
      'should match',
    ),
    schema(
      'a GlobalService name too long for a label value',
      'GlobalService',
      globalService({}, longName(64)),
      'metadata.name',
      'Too long',
    ),

    // PolicyBundle
    rule(
      'a PolicyBundle without policies',
      'PolicyBundle',
      policyBundle({ podSecurity: undefined }),
      'spec',
      'a PolicyBundle must set at least one of',
    ),
    rule(
      'namespaced policies without a namespace selector',
      'PolicyBundle',
      policyBundle({ namespaceSelector: undefined }),
      'spec.namespaceSelector',
      'namespaceSelector is required when the bundle has namespaced policies',
    ),
    schema(
      'an unknown Pod Security level',
      'PolicyBundle',
      policyBundle({ podSecurity: { enforce: 'strict' } }),
      'spec.podSecurity.enforce',
      'Unsupported value',
    ),
    rule(
      'Pod Security without levels',
      'PolicyBundle',
      policyBundle({ podSecurity: {} }),
      'spec.podSecurity',
      'podSecurity must set at least one of enforce, audit or warn',
    ),
    rule(
      'a binding to a policy not in the bundle',
      'PolicyBundle',
      policyBundle({
        admission: { policies: [{ name: 'a', spec: {} }], bindings: [{ name: 'b', policyName: 'other', validationActions: ['Deny'] }] },
      }),
      'spec.admission.bindings',
      "every binding's policyName must name a policy of this bundle",
    ),
    rule(
      'Deny combined with Warn',
      'PolicyBundle',
      policyBundle({
        admission: { policies: [{ name: 'a', spec: {} }], bindings: [{ name: 'a', policyName: 'a', validationActions: ['Deny', 'Warn'] }] },
      }),
      'spec.admission.bindings[0].validationActions',
      'validationActions cannot combine Deny and Warn',
    ),
    rule(
      'a ClusterRoleBinding to a Role',
      'PolicyBundle',
      policyBundle({
        rbac: { clusterRoleBindings: [{ name: 'b', roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'Group', name: 'g' }] }] },
      }),
      'spec.rbac.clusterRoleBindings[0].roleRef.kind',
      'a ClusterRoleBinding can only grant a ClusterRole',
    ),
    rule(
      'a rule with resources and nonResourceURLs',
      'PolicyBundle',
      policyBundle({
        rbac: { clusterRoles: [{ name: 'r', rules: [{ verbs: ['get'], resources: ['pods'], nonResourceURLs: ['/healthz'] }] }] },
      }),
      'spec.rbac.clusterRoles[0].rules[0]',
      'a rule grants either resources or nonResourceURLs, not both',
    ),
    schema(
      'a quota that is not a quantity',
      'PolicyBundle',
      policyBundle({ resourceQuotas: [{ name: 'q', hard: { 'requests.cpu': 'lots' } }] }),
      'spec.resourceQuotas[0].hard.requests.cpu',
      'should match',
    ),
    schema('an unknown mode', 'PolicyBundle', policyBundle({ mode: 'DryRun' }), 'spec.mode', 'Unsupported value'),

    // Work
    rule(
      'a Work with manifests and a payload',
      'Work',
      work({ payload: { encoding: 'gzip', data: 'H4sI', sha256: 'a'.repeat(64) } }),
      'spec',
      'a Work must carry exactly one of manifests or payload',
    ),
    rule(
      'a part index past the count',
      'Work',
      work({ manifests: undefined, payload: { encoding: 'gzip', data: 'H4sI', sha256: 'a'.repeat(64) }, part: { index: 2, count: 2 } }),
      'spec.part.index',
      'part index must be less than part count',
    ),
    rule(
      'parts of inline manifests',
      'Work',
      work({ part: { index: 0, count: 2 } }),
      'spec.part',
      'only a payload can be split into parts',
    ),
    schema(
      'a payload digest that is not hex SHA-256',
      'Work',
      work({ manifests: undefined, payload: { encoding: 'gzip', data: 'H4sI', sha256: 'abc' } }),
      'spec.payload.sha256',
      'should match',
    ),
    schema(
      'a source of an unknown kind',
      'Work',
      work({ source: { kind: 'Deployment', namespace: 'a', name: 'b', generation: 1, revision: 'r' } }),
      'spec.source.kind',
      'Unsupported value',
    ),
    schema(
      'a source generation of 0',
      'Work',
      work({ source: { kind: 'GlobalService', namespace: 'a', name: 'b', generation: 0, revision: 'r' } }),
      'spec.source.generation',
      'greater than or equal to 1',
    ),
    schema('a Work name that is not a label value', 'Work', work({}, 'web.v2'), 'metadata.name', 'should match'),
  ];
}

/** Updates the API must refuse: the rules that compare with the old object. */
export function invalidUpdates(): InvalidUpdate[] {
  return [
    {
      name: 'moving a MemberCluster to another fleet',
      kind: 'MemberCluster',
      before: memberCluster({ fleet: 'prod' }, 'immutable-fleet'),
      after: memberCluster({ fleet: 'staging' }, 'immutable-fleet'),
      field: 'spec.fleet',
      message: 'fleet is immutable',
    },
    {
      name: 'changing a fleet workspace namespace',
      kind: 'Fleet',
      before: fleet({ workspaceNamespace: 'team-a' }, 'immutable-workspace'),
      after: fleet({ workspaceNamespace: 'team-b' }, 'immutable-workspace'),
      field: 'spec.workspaceNamespace',
      message: 'workspaceNamespace is immutable',
    },
    {
      name: 'setting a fleet workspace namespace after creation',
      kind: 'Fleet',
      before: fleet({}, 'late-workspace'),
      after: fleet({ workspaceNamespace: 'team-c' }, 'late-workspace'),
      field: 'spec.workspaceNamespace',
      message: 'workspaceNamespace is immutable',
    },
  ];
}
