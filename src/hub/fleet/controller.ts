// The Fleet reconciler: creates and owns the fleet's workspace namespace (the garbage collector
// removes it with the Fleet) and keeps the fleet's status — its clusters at a glance — current as
// members come, go and change state. The status is computed by fleetStatus and written only when
// it differs. Given a Secret reader (the chart's), it binds it to the hub's own identity in the
// workspace, so the hub reads Secrets in fleet workspaces and nowhere else.
import { apiVersion, labels, managedBy, reasons, workspaceNamespace } from '../../api/index.js';
import {
  isAlreadyExists,
  writeStatus,
  type ControllerSpec,
  type InformerSource,
  type Kube,
  type KubeObject,
  type Manager,
  type ReconcileContext,
  type Request,
  type Store,
} from '../../runtime/index.js';
import { fleetStatus, type FleetInput } from './status.js';
import { workspaceSecretsBinding } from '../permissions.js';
import { hubFieldManager, NamespaceType, type FleetObject, type MemberObject } from '../objects.js';

export interface FleetSources {
  fleets: InformerSource;
  members: InformerSource;
  /** Namespaces flotilla manages (label app.kubernetes.io/managed-by=flotilla). */
  namespaces: InformerSource;
  /** RoleBindings flotilla manages (the same label): the Secret reader's binding in each workspace. */
  roleBindings: InformerSource;
}

/** A ClusterRole the hub binds to its own ServiceAccount in every workspace it creates. */
export interface WorkspaceSecretReader {
  clusterRole: string;
  serviceAccount: { namespace: string; name: string };
}

/** The RoleBinding that lets the hub read the Secrets of one fleet's workspace. */
export function workspaceSecretsBindingObject(fleet: FleetObject, reader: WorkspaceSecretReader): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: {
      name: workspaceSecretsBinding,
      namespace: workspaceNamespace(fleet),
      labels: { ...managedBy, [labels.fleet]: fleet.metadata.name ?? '' },
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: reader.clusterRole },
    subjects: [{ kind: 'ServiceAccount', ...reader.serviceAccount }],
  };
}

const bindingDiffers = (want: KubeObject, live: KubeObject | undefined): boolean =>
  !live || JSON.stringify([live['roleRef'], live['subjects']]) !== JSON.stringify([want['roleRef'], want['subjects']]);

/** The workspace namespace a fleet creates: labelled with the fleet and owned by it. */
export function workspaceObject(fleet: FleetObject): KubeObject {
  return {
    ...NamespaceType,
    metadata: {
      name: workspaceNamespace(fleet),
      labels: { ...managedBy, [labels.fleet]: fleet.metadata.name ?? '' },
      ownerReferences: [
        {
          apiVersion,
          kind: 'Fleet',
          name: fleet.metadata.name ?? '',
          uid: fleet.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
  };
}

function ownedBy(namespace: KubeObject, fleet: FleetObject): boolean {
  return (namespace.metadata.ownerReferences ?? []).some((r) => r.uid === fleet.metadata.uid && r.controller === true);
}

/** Creates the workspace when missing; answers whether it is there and ours. */
async function ensureWorkspace(
  kube: Kube,
  fleet: FleetObject,
  cached: KubeObject | undefined,
  signal: AbortSignal,
): Promise<FleetInput['workspace']> {
  // A namespace someone else made carries no flotilla label, so the cache cannot see it: ask.
  const live = cached ?? (await kube.getOrNull(NamespaceType, workspaceNamespace(fleet), undefined, { signal }));
  if (live) {
    if (!ownedBy(live, fleet)) return 'foreign';
    return live.metadata.deletionTimestamp !== undefined ? 'missing' : 'ours';
  }
  try {
    await kube.create(workspaceObject(fleet), { signal });
    return 'ours';
  } catch (error) {
    if (isAlreadyExists(error)) return 'missing'; // created meanwhile: judge it on the next event
    throw error;
  }
}

export function fleetController(
  manager: Manager,
  sources: FleetSources,
  secretReader?: WorkspaceSecretReader,
): ControllerSpec<FleetObject> {
  const members: Store<MemberObject> = manager.informer<MemberObject>(sources.members, { fleet: (m) => [m.spec.fleet] }).store;
  const namespaces = manager.informer(sources.namespaces).store;
  const fleets = manager.informer<FleetObject>(sources.fleets, { workspace: workspaceIndex }).store;
  const roleBindings = manager.informer(sources.roleBindings).store;

  async function reconcile(request: Request, ctx: ReconcileContext<FleetObject>): Promise<undefined> {
    const fleet = ctx.store.get(request.key);
    if (!fleet || fleet.metadata.deletionTimestamp !== undefined) return undefined;
    const workspace = await ensureWorkspace(ctx.kube, fleet, namespaces.get(workspaceNamespace(fleet)), ctx.signal);
    if (secretReader && workspace === 'ours') {
      const binding = workspaceSecretsBindingObject(fleet, secretReader);
      if (bindingDiffers(binding, roleBindings.get(`${workspaceNamespace(fleet)}/${workspaceSecretsBinding}`))) {
        await ctx.kube.apply(binding, { fieldManager: hubFieldManager, force: true, signal: ctx.signal });
      }
    }
    const result = await writeStatus(
      ctx.kube,
      fleet,
      (current) =>
        fleetStatus({
          fleet: current,
          members: members.byIndex('fleet', request.name),
          workspace,
        }),
      { signal: ctx.signal },
    );
    if (result.written) ctx.log.debug('wrote fleet status', { fleet: request.name });
    return undefined;
  }

  return {
    name: 'fleet',
    failureReason: reasons.common.ReconcileFailed,
    for: sources.fleets,
    owns: [sources.namespaces],
    watches: [
      // Every member's change (a join, its facts, its Work counts) maps to its one Fleet, whose status
      // is computed over all members: judged once at the end of a 1 s window, a 2,000-member fleet's
      // status costs one pass a second while members change, not one per change (a third of the hub's
      // CPU while 2,000 clusters joined and took 20,000 Works, bench/fanout.ts with --cpu-prof).
      { source: sources.members, map: (member) => [(member as MemberObject).spec.fleet], coalesce: { minMs: 1000 } },
      { source: sources.roleBindings, map: (binding) => fleetsOfWorkspace(fleets, binding.metadata.namespace) },
    ],
    reconcile,
  };
}

/** The Fleet whose workspace is `namespace`, from a fleet store indexed by `workspace`. */
export function fleetOfWorkspace(fleets: Store<FleetObject>, namespace: string | undefined): FleetObject | undefined {
  return namespace === undefined ? undefined : fleets.byIndex('workspace', namespace)[0];
}

const fleetsOfWorkspace = (fleets: Store<FleetObject>, namespace: string | undefined): string[] => {
  const fleet = fleetOfWorkspace(fleets, namespace);
  return fleet?.metadata.name ? [fleet.metadata.name] : [];
};

export const workspaceIndex = (fleet: FleetObject): string[] => [workspaceNamespace(fleet)];
