import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../runtime/kube.js';
import { FLEET_RULES_CONFIGMAP, keptRestrictions } from './fleet-rules.js';

const kept = (data: Record<string, string> | undefined): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: FLEET_RULES_CONFIGMAP, namespace: 'flotilla-system' },
  ...(data ? { data } : {}),
});
const unrestricted = { globalServices: { rbac: 'Unrestricted' } };

describe('keptRestrictions', () => {
  it.each<[string, KubeObject | null, unknown]>([
    ['the kept restrictions of this fleet', kept({ fleet: 'prod', restrictions: JSON.stringify(unrestricted) }), unrestricted],
    ['none when nothing is kept', null, undefined],
    [
      "none for another fleet's (the cluster joined elsewhere since)",
      kept({ fleet: 'staging', restrictions: JSON.stringify(unrestricted) }),
      undefined,
    ],
    ['none for content that does not parse', kept({ fleet: 'prod', restrictions: '{not json' }), undefined],
    ['none for content that is not an object', kept({ fleet: 'prod', restrictions: '"Unrestricted"' }), undefined],
    ['none for a ConfigMap without data', kept(undefined), undefined],
  ])('are %s', (_case, configMap, expected) => {
    expect(keptRestrictions(configMap, 'prod')).toEqual(expected);
  });
});
