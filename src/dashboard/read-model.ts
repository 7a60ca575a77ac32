// The dashboard's one set of hub watches: an informer per flotilla kind, shared by every viewer.
// A change is reported with the fleet it belongs to, so the server tells only the viewers who may
// see that fleet. Works are indexed by cluster, the one question the pages ask of them.
import {
  FleetType,
  GlobalServiceType,
  labels,
  MemberClusterType,
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
import type { FleetObjects } from './views.js';

type Cached<T> = T & KubeObject;

export interface ReadModel {
  /** Every fleet's workspace namespace, by fleet name. */
  workspaces(): Map<string, string>;
  /** The objects of the named fleets only. */
  objectsOf(fleets: ReadonlySet<string>): FleetObjects;
  member(name: string): Cached<MemberCluster> | undefined;
  /** `listener` hears the fleet of every changed object ('' when it has none). */
  onChange(listener: (fleet: string) => void): () => void;
  synced(): boolean;
  waitForSync(signal: AbortSignal): Promise<void>;
  run(signal: AbortSignal): Promise<void>;
}

const CLUSTER_INDEX = 'cluster';

export function createReadModel(kube: Kube, logger: Logger): ReadModel {
  const fleets = createInformer<Cached<Fleet>>({ kube, type: FleetType, logger });
  const members = createInformer<Cached<MemberCluster>>({ kube, type: MemberClusterType, logger });
  const services = createInformer<Cached<GlobalService>>({ kube, type: GlobalServiceType, logger });
  const policies = createInformer<Cached<PolicyBundle>>({ kube, type: PolicyBundleType, logger });
  const works = createInformer<Cached<Work>>({ kube, type: WorkType, logger, indexes: { [CLUSTER_INDEX]: labelIndex(labels.cluster) } });
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
    async waitForSync(signal) {
      await Promise.all(informers.map((i) => i.waitForSync(signal)));
    },
    async run(signal) {
      await Promise.all(informers.map((i) => i.run(signal)));
    },
  };
}
