/**
 * The hub apiserver's API Priority and Fairness for flotilla: the agents' Work status reports get a
 * priority level of their own with a few seats, so that a fan-out's Work writes are not slowed by the
 * status reports those very writes cause. When one service changes on N clusters, every Work written
 * makes its agent report status: as many writes again, and the apiserver, bound by CPU, shares it
 * between both. The change should reach every cluster first; its status may follow a moment later.
 * The same level keeps a fleet of agents coming back at once (a hub outage, a network partition
 * healed) from crowding the hub operator's own requests out.
 *
 * Matched: any ServiceAccount (every agent's hub identity is one, in its member's namespace, whose
 * names no FlowSchema can match by prefix) updating or patching `works/status`, which no other
 * flotilla identity writes. Each agent is its own flow (ByUser), so one agent's retries cannot starve
 * another's. The hub chart installs these objects (`apiPriority.enabled`); they are written here once,
 * for the chart (hack/codegen) and for the benchmarks that stand in for an installed hub.
 */
import { group } from '../api/index.js';

export const agentStatusPriorityName = 'flotilla-agent-status';

const flowcontrol = 'flowcontrol.apiserver.k8s.io/v1';

/**
 * A share of 1 against the defaults' 245 is 3 of the default 600 seats (ceil(600 × 1/246)); it
 * neither lends nor borrows, or borrowing idle seats would undo it at the very moment it matters.
 * Queue room: 128 queues × 100 = 12,800 reports waiting, more than one fan-out of 10,000 clusters
 * writes at once; a report past that, or waiting past the apiserver's limit, is a 429 the agent retries.
 */
export const apiPriorityObjects = (): { apiVersion: string; kind: string; metadata: { name: string }; spec: unknown }[] => [
  {
    apiVersion: flowcontrol,
    kind: 'PriorityLevelConfiguration',
    metadata: { name: agentStatusPriorityName },
    spec: {
      type: 'Limited',
      limited: {
        nominalConcurrencyShares: 1,
        lendablePercent: 0,
        borrowingLimitPercent: 0,
        limitResponse: { type: 'Queue', queuing: { queues: 128, handSize: 6, queueLengthLimit: 100 } },
      },
    },
  },
  {
    apiVersion: flowcontrol,
    kind: 'FlowSchema',
    metadata: { name: agentStatusPriorityName },
    spec: {
      priorityLevelConfiguration: { name: agentStatusPriorityName },
      // Before the default `service-accounts` (9000), after the system's own (below 1000).
      matchingPrecedence: 1000,
      distinguisherMethod: { type: 'ByUser' },
      rules: [
        {
          subjects: [{ kind: 'Group', group: { name: 'system:serviceaccounts' } }],
          resourceRules: [{ verbs: ['update', 'patch'], apiGroups: [group], resources: ['works/status'], namespaces: ['*'] }],
        },
      ],
    },
  },
];
