// The dashboard's one set of hub watches: an informer per flotilla kind, shared by every viewer.
// A change is reported with the fleet it belongs to, so the server tells only the viewers who may
// see that fleet. Works are indexed by cluster, the one question the pages ask of them, and cached
// without their manifests: those may hold Secrets, and no page shows them (views.ts reads a Work's
// source, labels and status only).
import {
  FleetType,
  GlobalServiceType,
  group,
  labels,
  MemberClusterType,
  plurals,
  PolicyBundleType,
  workspaceNamespace,
  WorkType,
  type Fleet,
  type GlobalService,
  type MemberCluster,
  type PolicyBundle,
  type Work,
} from '../api/index.js';
import { createInformer, labelIndex, type Informer, type Kube, type KubeObject, type Logger } from '../runtime/index.js';
import { accessReview } from './access.js';
import type { FleetObjects } from './views.js';

type Cached<T> = T & KubeObject;

/** What the read-model watches, each in every namespace: its identity needs list and watch of each, cluster-wide. */
export const watchedTypes = {
  fleets: FleetType,
  members: MemberClusterType,
  services: GlobalServiceType,
  policies: PolicyBundleType,
  works: WorkType,
} as const;

/**
 * What the cache keeps of a Work: its metadata (labels say its source), `spec.source` and its
 * status. Its manifests, payload and policy templates are dropped before they are stored, so a
 * Secret a Work carries never sits in the dashboard's memory; so are managedFields and annotations,
 * which no view reads.
 */
export function workSummary(work: Cached<Work>): Cached<Work> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- dropped on purpose
  const { managedFields, annotations, ...metadata } = work.metadata;
  return {
    apiVersion: work.apiVersion,
    kind: work.kind,
    metadata,
    spec: { source: work.spec.source },
    ...(work.status !== undefined ? { status: work.status } : {}),
  };
}

type Verb = 'list' | 'watch';

/** The SelfSubjectAccessReviews that say whether the read-model's identity may list and watch each watched kind cluster-wide. */
export function watchAccessReviews(): { kind: keyof typeof plurals; verb: Verb; review: KubeObject }[] {
  return Object.values(watchedTypes).flatMap((type) =>
    (['list', 'watch'] as const).map((verb) => ({
      kind: type.kind,
      verb,
      review: accessReview({ verb, group, resource: plurals[type.kind] }),
    })),
  );
}

/**
 * Why the read-model cannot start with this identity, naming each kind and the permission it lacks;
 * undefined when it has them all. Without them its watches would retry a 403 forever and the
 * dashboard would never sync (a namespace-limited kubeconfig, say).
 */
export function missingWatchAccess(denied: readonly { kind: keyof typeof plurals; verb: Verb }[]): string | undefined {
  if (denied.length === 0) return undefined;
  const byKind = new Map<string, Verb[]>();
  for (const { kind, verb } of denied) byKind.set(kind, [...(byKind.get(kind) ?? []), verb]);
  const lacks = [...byKind].map(([kind, verbs]) => `${verbs.join(' and ')} ${plurals[kind as keyof typeof plurals]}.${group} (${kind})`);
  const needed = Object.values(watchedTypes).map((type) => plurals[type.kind]);
  return (
    `the dashboard's identity may not ${lacks.join('; ')} in all namespaces. It watches every fleet's objects and needs ` +
    `list and watch on ${needed.join(', ')} (${group}) cluster-wide: a ClusterRole bound by a ClusterRoleBinding`
  );
}

export interface ReadModel {
  /** Every fleet's workspace namespace, by fleet name. */
  workspaces(): Map<string, string>;
  /** The objects of the named fleets only. */
  objectsOf(fleets: ReadonlySet<string>): FleetObjects;
  member(name: string): Cached<MemberCluster> | undefined;
  /** `listener` hears the fleet of every changed object ('' when it has none). */
  onChange(listener: (fleet: string) => void): () => void;
  synced(): boolean;
  /** Throws, naming what is missing, unless its identity may list and watch every watched kind cluster-wide. */
  checkAccess(): Promise<void>;
  waitForSync(signal: AbortSignal): Promise<void>;
  run(signal: AbortSignal): Promise<void>;
}

const CLUSTER_INDEX = 'cluster';

export function createReadModel(kube: Kube, logger: Logger): ReadModel {
  const fleets = createInformer<Cached<Fleet>>({ kube, type: watchedTypes.fleets, logger });
  const members = createInformer<Cached<MemberCluster>>({ kube, type: watchedTypes.members, logger });
  const services = createInformer<Cached<GlobalService>>({ kube, type: watchedTypes.services, logger });
  const policies = createInformer<Cached<PolicyBundle>>({ kube, type: watchedTypes.policies, logger });
  const works = createInformer<Cached<Work>>({
    kube,
    type: watchedTypes.works,
    logger,
    transform: workSummary,
    indexes: { [CLUSTER_INDEX]: labelIndex(labels.cluster) },
  });
  const informers: Informer[] = [fleets, members, services, policies, works];
  const listeners = new Set<(fleet: string) => void>();

  const workspaces = (): Map<string, string> => new Map(fleets.store.list().map((f) => [f.metadata.name ?? '', workspaceNamespace(f)]));
  const fleetOfNamespace = (namespace: string): string => {
    for (const [fleet, workspace] of workspaces()) if (workspace === namespace) return fleet;
    return '';
  };
  const tell = (fleet: string): void => {
    for (const listener of listeners) listener(fleet);
  };
  const watch = <T extends KubeObject>(informer: Informer<T>, fleetOf: (object: T) => string): void => {
    informer.addHandler({
      onAdd: (o) => {
        tell(fleetOf(o));
      },
      onUpdate: (_, o) => {
        tell(fleetOf(o));
      },
      onDelete: (o) => {
        tell(fleetOf(o));
      },
    });
  };
  watch(fleets, (f) => f.metadata.name ?? '');
  watch(members, (m) => m.spec.fleet);
  watch(services, (s) => fleetOfNamespace(s.metadata.namespace ?? ''));
  watch(policies, (p) => fleetOfNamespace(p.metadata.namespace ?? ''));
  watch(works, (w) => w.metadata.labels?.[labels.fleet] ?? '');

  return {
    workspaces,
    objectsOf(visible) {
      const namespaces = new Set([...workspaces()].filter(([fleet]) => visible.has(fleet)).map(([, workspace]) => workspace));
      const inWorkspace = (o: KubeObject): boolean => namespaces.has(o.metadata.namespace ?? '');
      return {
        fleets: [...visible],
        members: members.store.list().filter((m) => visible.has(m.spec.fleet)),
        services: services.store.list().filter(inWorkspace),
        policies: policies.store.list().filter(inWorkspace),
        worksOf: (cluster) => works.store.byIndex(CLUSTER_INDEX, cluster),
      };
    },
    member: (name) => members.store.get(name),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    synced: () => informers.every((i) => i.hasSynced()),
    async checkAccess() {
      const reviews = watchAccessReviews();
      const answers = await Promise.all(reviews.map(({ review }) => kube.create(review)));
      const denied = reviews.filter((_, index) => (answers[index]?.status as { allowed?: boolean } | undefined)?.allowed !== true);
      const problem = missingWatchAccess(denied);
      if (problem !== undefined) throw new Error(problem);
    },
    async waitForSync(signal) {
      await Promise.all(informers.map((i) => i.waitForSync(signal)));
    },
    async run(signal) {
      await Promise.all(informers.map((i) => i.run(signal)));
    },
  };
}
