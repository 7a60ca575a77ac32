import { fieldManagers, FleetType, type Fleet, type FleetRestrictions } from '../api/index.js';
import { jsonEqual } from '../runtime/conditions.js';
import { createInformer } from '../runtime/informer.js';
import { isRecord, type Kube, type KubeObject } from '../runtime/kube.js';
import { errorMessage, type Logger } from '../runtime/log.js';

// The agent's copy of its fleet's restrictions, read from its own Fleet on the hub (the one Fleet
// its hub identity may read), never from a Work: whoever can write a Work cannot forge the rules
// it is judged by. The last restrictions read are kept in a ConfigMap beside the local copies, so
// an agent restarted while the hub is unreachable judges by its fleet's rules, not the defaults;
// only before the Fleet was ever read (and nothing is kept) do the built-in defaults apply
// (admissionRules with undefined). The ConfigMap lies in the agent's own namespace, which no Work
// may touch.

const CONFIGMAP_TYPE = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
/** The ConfigMap that keeps the last restrictions read, in the agent's system namespace. */
export const FLEET_RULES_CONFIGMAP = 'flotilla-fleet-restrictions';

export interface FleetRules {
  /** The Fleet's spec.restrictions as last read (or kept); undefined until read, or once the Fleet is gone. */
  restrictions(): FleetRestrictions | undefined;
}

export interface FleetRulesOptions {
  hub: Kube;
  /** Where the last restrictions read are kept. */
  spoke: Kube;
  systemNamespace: string;
  fleet: string;
  logger: Logger;
  signal: AbortSignal;
  /** Called when the restrictions change, so every Work is judged again. */
  onChange: () => void;
}

/** The restrictions of `fleet` kept in `configMap`, or undefined when it holds none (or another fleet's). */
export function keptRestrictions(configMap: KubeObject | null, fleet: string): FleetRestrictions | undefined {
  const data = isRecord(configMap?.data) ? configMap.data : {};
  if (data.fleet !== fleet || typeof data.restrictions !== 'string') return undefined;
  try {
    const parsed = JSON.parse(data.restrictions) as unknown;
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export async function watchFleetRules({
  hub,
  spoke,
  systemNamespace,
  fleet,
  logger,
  signal,
  onChange,
}: FleetRulesOptions): Promise<FleetRules> {
  let current = keptRestrictions(await spoke.getOrNull(CONFIGMAP_TYPE, FLEET_RULES_CONFIGMAP, systemNamespace, { signal }), fleet);
  const keep = async (restrictions: FleetRestrictions | undefined): Promise<void> => {
    try {
      if (restrictions === undefined) {
        await spoke.delete(CONFIGMAP_TYPE, FLEET_RULES_CONFIGMAP, systemNamespace, { signal }).catch(() => undefined);
        return;
      }
      await spoke.apply(
        {
          ...CONFIGMAP_TYPE,
          metadata: { name: FLEET_RULES_CONFIGMAP, namespace: systemNamespace, labels: { 'app.kubernetes.io/managed-by': 'flotilla' } },
          data: { fleet, restrictions: JSON.stringify(restrictions) },
        },
        { fieldManager: fieldManagers.agent, force: true, signal },
      );
    } catch (error) {
      if (!signal.aborted)
        logger.warn("could not keep the fleet's restrictions on the spoke; a restart without the hub judges by the defaults", {
          fleet,
          error: errorMessage(error),
        });
    }
  };
  // By name: list and watch with a metadata.name field selector are authorized by resourceNames.
  const fleets = createInformer<Fleet & KubeObject>({ kube: hub, type: FleetType, fieldSelector: `metadata.name=${fleet}`, logger });
  const observe = (next: FleetRestrictions | undefined): void => {
    if (jsonEqual(current, next)) return;
    current = next;
    logger.info("the fleet's restrictions changed; judging every Work again", { fleet });
    void keep(next);
    onChange();
  };
  fleets.addHandler({
    onAdd: (f) => {
      observe(f.spec?.restrictions);
    },
    onUpdate: (_old, f) => {
      observe(f.spec?.restrictions);
    },
    onDelete: () => {
      observe(undefined);
    },
  });
  void fleets.run(signal);
  return { restrictions: () => current };
}
