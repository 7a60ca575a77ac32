import { FleetType, type Fleet, type FleetRestrictions } from '../api/index.js';
import { jsonEqual } from '../runtime/conditions.js';
import { createInformer } from '../runtime/informer.js';
import type { Kube, KubeObject } from '../runtime/kube.js';
import type { Logger } from '../runtime/log.js';

// The agent's copy of its fleet's restrictions, read from its own Fleet on the hub (the one Fleet
// its hub identity may read), never from a Work: whoever can write a Work cannot forge the rules
// it is judged by. Until the Fleet has been read (the hub unreachable since the agent started),
// the restrictions are unknown and the built-in defaults apply (admissionRules with undefined).

export interface FleetRules {
  /** The Fleet's spec.restrictions as last read; undefined until read (or when the Fleet is gone). */
  restrictions(): FleetRestrictions | undefined;
}

export interface FleetRulesOptions {
  hub: Kube;
  fleet: string;
  logger: Logger;
  signal: AbortSignal;
  /** Called when the restrictions change, so every Work is judged again. */
  onChange: () => void;
}

export function watchFleetRules({ hub, fleet, logger, signal, onChange }: FleetRulesOptions): FleetRules {
  // By name: list and watch with a metadata.name field selector are authorized by resourceNames.
  const fleets = createInformer<Fleet & KubeObject>({ kube: hub, type: FleetType, fieldSelector: `metadata.name=${fleet}`, logger });
  const changed = (old: Fleet | undefined, current: Fleet | undefined): void => {
    if (jsonEqual(old?.spec?.restrictions, current?.spec?.restrictions)) return;
    logger.info('the fleet\'s restrictions changed; judging every Work again', { fleet });
    onChange();
  };
  fleets.addHandler({ onAdd: (f) => { changed(undefined, f); }, onUpdate: changed, onDelete: (f) => { changed(f, undefined); } });
  void fleets.run(signal);
  return { restrictions: () => fleets.store.get(fleet)?.spec?.restrictions };
}
