// What the dashboard's own identity may do on the hub apiserver in the hub chart: the ONE table its
// ClusterRole is generated from (`make generate` writes charts/flotilla-hub/templates/dashboard-rbac.yaml),
// like the hub's (src/hub/permissions.ts). It runs the read-model's shared watches and nothing
// else: every viewer's access check is a SelfSubjectAccessReview made with the viewer's own token,
// and the start-up check one made with its own (which every authenticated identity may create).
// permissions.test.ts fails when the read-model watches a kind this table does not let it watch.
import { group, plurals } from '../api/index.js';
import type { PermissionRule } from '../hub/permissions.js';

/** The chart's names for the dashboard's ServiceAccount and ClusterRole; fixed, as the hub's are. */
export const dashboardRoleName = 'flotilla-dashboard';

const watch = ['list', 'watch'] as const;

/** Rules the dashboard holds in every namespace (a ClusterRole bound by a ClusterRoleBinding). */
export const dashboardRules: readonly PermissionRule[] = [
  { apiGroup: group, resource: plurals.Fleet, verbs: watch, why: 'the fleets and their workspace namespaces, which decide who sees what' },
  { apiGroup: group, resource: plurals.MemberCluster, verbs: watch, why: 'the clusters: state, facts, capacity' },
  { apiGroup: group, resource: plurals.GlobalService, verbs: watch, why: 'the services and their rollouts' },
  { apiGroup: group, resource: plurals.PolicyBundle, verbs: watch, why: 'the policies and their compliance' },
  {
    apiGroup: group,
    resource: plurals.Work,
    verbs: watch,
    why: "each cluster's Works and their status (cached without their manifests: read-model.ts)",
  },
];
