// The hub operator: the reconcilers of every hub kind on one manager, sharing one cache per
// resource, with leader election on a Lease in flotilla-system so that replicas take over from
// each other. `flotilla hub` runs it; tests may run it in-process.
import {
  createCacheTransform,
  createManager,
  isAlreadyExists,
  type ElectionEnd,
  type Kube,
  type KubeObject,
  type Logger,
} from '../runtime/index.js';
import { clusterGroupController } from './clustergroup/controller.js';
import { fleetController, type WorkspaceSecretReader } from './fleet/controller.js';
import { ConfigMapType, globalServiceController } from './globalservice/controller.js';
import { ClusterGroupType, flotillaNamespace, GlobalServiceType, labels, managedBySelector, WorkType } from '../api/index.js';
import { accessSource, memberClusterController, memberSources } from './membercluster/controller.js';
import { policyBundleController, policyBundleSources } from './policybundle/controller.js';
import { NamespaceType } from './objects.js';
import { hubLeaseName } from './permissions.js';
import { createOriginEngine, type OriginEngineConfig } from './origin/origin.js';

export { hubLeaseName } from './permissions.js';

export interface HubOptions {
  kube: Kube;
  logger: Logger;
  /** Where to serve /healthz, /readyz and /metrics (port 0: any free one); none without it. */
  health?: { host: string; port: number };
  /** Unique per replica (default: host name and a random suffix). */
  identity?: string;
  leaseDurationSeconds?: number;
  /** How long a deleted GlobalService or PolicyBundle waits for spokes to confirm their cleanup (default 10 min). */
  cleanupTimeoutMs?: number;
  /**
   * The tools, policy and cache folder for Git and Helm origins; without them such services report
   * SourceUnavailable. A `runner` of the caller's own (createToolRunner) lets it count the tool
   * runs (bench/chart-fanout.ts counts helm renders).
   */
  origins?: Pick<OriginEngineConfig, 'tools' | 'policy' | 'cacheDir' | 'limits' | 'runner'>;
  /**
   * A ClusterRole granting Secret reads (the chart's flotilla-hub-workspace-secrets) that the hub
   * binds to its own ServiceAccount in each workspace it creates: with it, the hub needs no Secret
   * access anywhere else. Without it the hub relies on whatever its identity already holds.
   */
  workspaceSecretReader?: string;
}

/**
 * What the hub's caches keep of each object (bench/work-heap.ts measures it on a live Work): all but
 * managedFields' field sets (the bulk of a small Work, read by no hub reader), with repeated strings
 * and equal values shared (values frozen), and a Work without the status members that no hub reader reads:
 * - `counts`, on every Work: the hub counts a cluster's Works from their conditions
 *   (summarizeWorks), never from the agent's counts;
 * - `manifests`, on a GlobalService's Works: a rollout judges a cluster by its Work's conditions,
 *   observedGeneration and appliedRevision (workRolloutState), whose bounded messages are the
 *   agent's contract; only a PolicyBundle's compliance reads the per-manifest list
 *   (clusterCompliance), of the bundle's own Works, which it finds by this same label.
 * Every other reader of the Works cache (claims, the Work writer and its drains, the member's
 * judgement) reads their metadata and spec, which are kept whole; the conditions are kept whole too,
 * for their reason and lastTransitionTime, unread, are members their type requires. With `counts`
 * and `manifests` taken out of the WorkStatus type, src/hub fails to compile only in
 * clusterCompliance; the dashboard, which reads both, has informers and a transform of its own. A new hub reader of either takes it off this list first.
 */
export function hubCacheTransform(): <T extends KubeObject>(object: T) => T {
  return createCacheTransform({
    unreadStatus: [
      { type: WorkType, members: ['counts'] },
      { type: WorkType, labels: { [labels.sourceKind]: 'GlobalService' }, members: ['manifests'] },
    ],
  });
}

const serviceAccountUser = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** The ServiceAccount the hub runs as (a SelfSubjectReview); an error when it runs as anything else. */
export async function ownServiceAccount(kube: Kube, signal: AbortSignal): Promise<WorkspaceSecretReader['serviceAccount']> {
  const review = await kube.create({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} }, { signal });
  const username = (review.status as { userInfo?: { username?: string } } | undefined)?.userInfo?.username ?? '';
  const match = serviceAccountUser.exec(username);
  if (!match?.[1] || !match[2]) {
    throw new Error(`--workspace-secret-reader binds a ServiceAccount, but the hub runs as ${JSON.stringify(username)}`);
  }
  return { namespace: match[1], name: match[2] };
}

/** Runs the hub operator until `signal` aborts (`stopped`) or leadership is lost (`lost`). */
export async function runHub(options: HubOptions, signal: AbortSignal): Promise<ElectionEnd> {
  const { kube, logger } = options;
  // Leader election needs its namespace; the first replica on a fresh hub makes it.
  await kube.create({ ...NamespaceType, metadata: { name: flotillaNamespace } }, { signal }).catch((error: unknown) => {
    if (!isAlreadyExists(error)) throw error;
  });
  const leaseDurationSeconds = options.leaseDurationSeconds ?? 15;
  const manager = createManager({
    kube,
    component: 'flotilla-hub',
    logger,
    leaderElection: {
      namespace: flotillaNamespace,
      name: hubLeaseName,
      leaseDurationSeconds,
      renewDeadlineMs: Math.round((leaseDurationSeconds * 1000 * 2) / 3),
      retryPeriodMs: Math.round((leaseDurationSeconds * 1000) / 7),
      ...(options.identity !== undefined ? { identity: options.identity } : {}),
    },
    ...(options.health !== undefined ? { health: options.health } : {}),
    // Lists come in pages of 500 (as client-go's reflector pages), so a restart over 100,000 Works
    // never holds one response of them all as buffers, string and objects at once.
    informers: { transform: hubCacheTransform(), pageSize: 500 },
  });
  const secretReader: WorkspaceSecretReader | undefined =
    options.workspaceSecretReader === undefined
      ? undefined
      : { clusterRole: options.workspaceSecretReader, serviceAccount: await ownServiceAccount(kube, signal) };
  const origins = options.origins ? await createOriginEngine(options.origins) : undefined;
  const sources = memberSources();
  const namespaces = { type: NamespaceType, labelSelector: managedBySelector };
  manager.controller(memberClusterController(manager, sources));
  manager.controller(
    fleetController(
      manager,
      { fleets: sources.fleets, members: sources.members, namespaces, roleBindings: accessSource(sources, 'RoleBinding') },
      secretReader,
    ),
  );
  manager.controller(
    clusterGroupController(manager, { groups: { type: ClusterGroupType }, fleets: sources.fleets, members: sources.members }),
  );
  manager.controller(
    globalServiceController(
      manager,
      {
        services: { type: GlobalServiceType },
        works: { type: WorkType },
        // Every namespace has kube-root-ca.crt (its CA bundle, about 2 KB cached); no source refers to it,
        // and a 10,000-cluster hub has 10,000 of them in the member namespaces alone.
        configMaps: { type: ConfigMapType, fieldSelector: 'metadata.name!=kube-root-ca.crt' },
        groups: { type: ClusterGroupType },
        fleets: sources.fleets,
        members: sources.members,
      },
      {
        ...(options.cleanupTimeoutMs !== undefined ? { cleanupTimeoutMs: options.cleanupTimeoutMs } : {}),
        ...(origins ? { origins } : {}),
      },
    ),
  );
  manager.controller(
    policyBundleController(
      manager,
      { ...policyBundleSources(), fleets: sources.fleets, members: sources.members },
      options.cleanupTimeoutMs !== undefined ? { cleanupTimeoutMs: options.cleanupTimeoutMs } : {},
    ),
  );
  return manager.start(signal);
}
