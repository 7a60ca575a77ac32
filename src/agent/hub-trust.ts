import { apiVersion } from '../api/index.js';
import { errorMessage } from '../runtime/log.js';
import { KubeApiError, type Kube, type KubeObject } from '../runtime/kube.js';

// Whether the agent may believe what the hub says. An empty list of Works from the hub means "delete
// everything" only if it comes from the agent's own, current membership: a hub rebuilt from scratch,
// a MemberCluster deleted (the agent revoked) or re-created by someone else (a former identity), all
// look like a hub that wants nothing. So the agent records its MemberCluster's uid when it joins (the
// bootstrap Secret carries it) and, before it takes any content from the hub and right before every
// prune, reads its MemberCluster and judges the answer here. Only `Trusted` lets hub content in and
// lets anything be pruned; every other verdict keeps all that was applied, enforced from the local
// copy, until a later check says otherwise.

export type HubTrustState =
  /** Not checked yet, or the hub did not answer: enforce the local copy, take nothing new, prune nothing. */
  | 'Unverified'
  /** The agent's own MemberCluster, as recorded at join, exists and is not being deleted. */
  | 'Trusted'
  /** The hub refused the agent's identity (401/403), or its MemberCluster is gone or being deleted. */
  | 'Revoked'
  /** The hub holds a MemberCluster of that name with another uid: another hub, or another join. */
  | 'IdentityChanged';

export interface HubTrust {
  state: HubTrustState;
  /** Why, for logs, Events and the status of the agent's Works. */
  message: string;
  /** The MemberCluster uid the agent trusts: the recorded one, or the first seen when none was recorded. */
  memberUID?: string;
}

/** What one read of the agent's own MemberCluster gave: the object, or the error it failed with. */
export type MembershipRead = { member: KubeObject | null } | { error: unknown };

/**
 * The verdict on one read of the agent's MemberCluster `cluster`, given the uid recorded at join
 * (none for bootstrap Secrets written before flotilla recorded it: the first uid seen is trusted
 * from then on, as SSH trusts a host key on first use).
 */
export function judgeMembership(cluster: string, read: MembershipRead, recordedUID: string | undefined): HubTrust {
  const recorded = recordedUID === undefined ? {} : { memberUID: recordedUID };
  if ('error' in read) {
    const code = read.error instanceof KubeApiError ? read.error.code : undefined;
    if (code === 401 || code === 403) {
      return {
        state: 'Revoked',
        message: `the hub refuses this agent's identity (${String(code)}) for MemberCluster ${cluster}: it was revoked or replaced; re-join the cluster`,
        ...recorded,
      };
    }
    return {
      state: 'Unverified',
      message: `the hub could not be asked about MemberCluster ${cluster}: ${errorMessage(read.error)}`,
      ...recorded,
    };
  }
  const { member } = read;
  if (member === null)
    return { state: 'Revoked', message: `MemberCluster ${cluster} no longer exists on the hub: the cluster left its fleet`, ...recorded };
  const uid = member.metadata.uid ?? '';
  if (recordedUID !== undefined && uid !== recordedUID) {
    return {
      state: 'IdentityChanged',
      message: `MemberCluster ${cluster} on the hub has uid ${uid}, not ${recordedUID} as recorded when this cluster joined: another hub or another join; re-join the cluster to trust it`,
      ...recorded,
    };
  }
  if (member.metadata.deletionTimestamp !== undefined) {
    return { state: 'Revoked', message: `MemberCluster ${cluster} is being deleted: the cluster is leaving its fleet`, memberUID: uid };
  }
  return { state: 'Trusted', message: `MemberCluster ${cluster} (uid ${uid}) is this agent's membership`, memberUID: uid };
}

/** Reads the agent's own MemberCluster (its hub identity may get exactly that one) and judges it. */
export async function checkMembership(hub: Kube, cluster: string, recordedUID: string | undefined, signal: AbortSignal): Promise<HubTrust> {
  let read: MembershipRead;
  try {
    read = { member: await hub.getOrNull({ apiVersion, kind: 'MemberCluster' }, cluster, undefined, { signal }) };
  } catch (error) {
    read = { error };
  }
  return judgeMembership(cluster, read, recordedUID);
}
