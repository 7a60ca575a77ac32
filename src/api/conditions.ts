// The condition vocabulary of flotilla's kinds: every condition type and reason it writes, so a
// typo does not compile and a reader finds each in one place. Polarity follows kstatus (which
// Argo CD and Flux read): Ready is normal-true, the abnormal-true types are True when something
// needs attention, and Reconciling and Stalled are present only while they are True.
import { kstatusConditionTypes } from '../runtime/conditions.js';

export const conditionTypes = {
  /** Normal-true, on every kind: the object is in its desired state. False or Unknown says why not. */
  Ready: kstatusConditionTypes.Ready,
  /** Present only when True (kstatus): the controller is still working toward the desired state. */
  Reconciling: kstatusConditionTypes.Reconciling,
  /** Present only when True (kstatus): no progress is possible without a change to the object or its inputs. */
  Stalled: kstatusConditionTypes.Stalled,
  /** Normal-true, on a Work: every manifest is applied at the Work's revision and dropped objects are removed. */
  Applied: 'Applied',
  /** Normal-true, on a Work: every applied object is healthy. */
  Available: 'Available',
  /** Abnormal-true, on a Work: some applied object no longer matches its manifest. */
  Drifted: 'Drifted',
  /** Abnormal-true, on a Work: some manifest failed (refused, in conflict, not applied, or unhealthy). */
  Degraded: 'Degraded',
  /** Normal-true, on a MemberCluster: its agent has connected with its credentials. */
  Joined: 'Joined',
  /** Normal-true, on a MemberCluster: heartbeats arrive in time and none of its Works is Degraded. */
  Healthy: 'Healthy',
} as const;

export type ConditionType = (typeof conditionTypes)[keyof typeof conditionTypes];

/** The conditions the hub writes on a MemberCluster (its agent writes the facts, not these). */
export const memberClusterConditionTypes = [
  conditionTypes.Joined,
  conditionTypes.Healthy,
  conditionTypes.Ready,
  conditionTypes.Reconciling,
  conditionTypes.Stalled,
] as const;

/** The reasons flotilla writes, CamelCase, grouped by the kind that carries them. */
export const reasons = {
  /** On any hub kind, from the controller: a reconcile failed with an error it did not describe itself; retried with backoff. */
  common: {
    ReconcileFailed: 'ReconcileFailed',
  },
  /** On a Work, from its agent. */
  work: {
    AllApplied: 'AllApplied',
    Applying: 'Applying',
    ApplyFailed: 'ApplyFailed',
    PruneFailed: 'PruneFailed',
    Refused: 'Refused',
    Conflict: 'Conflict',
    AllHealthy: 'AllHealthy',
    NotApplied: 'NotApplied',
    Unhealthy: 'Unhealthy',
    NoDrift: 'NoDrift',
    DriftDetected: 'DriftDetected',
    NoFailures: 'NoFailures',
    Ready: 'Ready',
  },
  /** On a MemberCluster, from the hub. */
  memberCluster: {
    AgentReported: 'AgentReported',
    AwaitingAgent: 'AwaitingAgent',
    NoHeartbeat: 'NoHeartbeat',
    HeartbeatReceived: 'HeartbeatReceived',
    HeartbeatMissed: 'HeartbeatMissed',
    WorksDegraded: 'WorksDegraded',
    Ready: 'Ready',
  },
  /** On a Fleet. */
  fleet: {
    WorkspaceNamespaceConflict: 'WorkspaceNamespaceConflict',
    CreatingWorkspace: 'CreatingWorkspace',
    ClustersNotReady: 'ClustersNotReady',
    ClustersJoining: 'ClustersJoining',
    ClustersReady: 'ClustersReady',
  },
  /** On a ClusterGroup. */
  clusterGroup: {
    Resolved: 'Resolved',
    FleetNotFound: 'FleetNotFound',
  },
  /** On a GlobalService; a render failure carries the render error's own reason. */
  globalService: {
    FleetNotFound: 'FleetNotFound',
    Deleting: 'Deleting',
    ManifestRefused: 'ManifestRefused',
    ClusterGroupNotFound: 'ClusterGroupNotFound',
    InvalidRollout: 'InvalidRollout',
    RenderFailed: 'RenderFailed',
    SourceUnavailable: 'SourceUnavailable',
    AwaitingCapabilities: 'AwaitingCapabilities',
    WorkWriteFailed: 'WorkWriteFailed',
    Conflict: 'Conflict',
    RolloutComplete: 'RolloutComplete',
    RolloutProgressing: 'RolloutProgressing',
    StagePause: 'StagePause',
    AwaitingApproval: 'AwaitingApproval',
    RolloutPaused: 'RolloutPaused',
  },
  /** On a PolicyBundle. */
  policyBundle: {
    FleetNotFound: 'FleetNotFound',
    ManifestRefused: 'ManifestRefused',
    ClusterGroupNotFound: 'ClusterGroupNotFound',
    WorkWriteFailed: 'WorkWriteFailed',
    NonCompliant: 'NonCompliant',
    AwaitingAgents: 'AwaitingAgents',
    Compliant: 'Compliant',
  },
} as const;
