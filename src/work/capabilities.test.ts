import { describe, expect, it } from '@jest/globals';
import type { MemberClusterStatus } from '../api/index.js';
import { capabilitiesChanged, helmCapabilities, type HelmCapabilities } from './capabilities.js';

describe('helmCapabilities', () => {
  const served = ['apps/v1', 'apps/v1/Deployment', 'monitoring.coreos.com/v1', 'monitoring.coreos.com/v1/ServiceMonitor', 'v1'];

  it.each<[string, MemberClusterStatus | undefined, HelmCapabilities | undefined]>([
    [
      'a cluster that reported both',
      { kubernetesVersion: 'v1.36.3', apiVersions: served },
      { kubeVersion: 'v1.36.3', apiVersions: served },
    ],
    [
      "a vendor's gitVersion, passed as helm would read it from that cluster",
      { kubernetesVersion: 'v1.30.4-eks-a737599', apiVersions: ['v1'] },
      { kubeVersion: 'v1.30.4-eks-a737599', apiVersions: ['v1'] },
    ],
    [
      'a list written unsorted or with repeats (another writer): sorted and unique',
      { kubernetesVersion: 'v1.36.3', apiVersions: ['v1', 'apps/v1', 'v1'] },
      { kubeVersion: 'v1.36.3', apiVersions: ['apps/v1', 'v1'] },
    ],
    [
      'an empty list is an answer (nothing served beyond what helm knows)',
      { kubernetesVersion: 'v1.36.3', apiVersions: [] },
      { kubeVersion: 'v1.36.3', apiVersions: [] },
    ],
    ['no status yet', undefined, undefined],
    ['no served APIs yet (a new cluster, an older agent)', { kubernetesVersion: 'v1.36.3' }, undefined],
    ['no Kubernetes version yet', { apiVersions: served }, undefined],
    ['a version the agent could not read', { kubernetesVersion: 'unknown', apiVersions: served }, undefined],
  ])('%s', (_name, status, expected) => {
    expect(helmCapabilities(status)).toEqual(expected);
  });

  it('does not hand out the status array itself', () => {
    const status: MemberClusterStatus = { kubernetesVersion: 'v1.36.3', apiVersions: ['v1'] };
    helmCapabilities(status)?.apiVersions.push('x/v1');
    expect(status.apiVersions).toEqual(['v1']);
  });
});

describe('capabilitiesChanged, which member status updates can render a chart differently', () => {
  const reported: MemberClusterStatus = { kubernetesVersion: 'v1.36.3', apiVersions: ['apps/v1', 'v1'] };
  it.each<[string, MemberClusterStatus | undefined, MemberClusterStatus | undefined, boolean]>([
    ['the same facts, copied (a heartbeat transition, new Work counts)', reported, { ...reported, apiVersions: ['apps/v1', 'v1'] }, false],
    ['the same facts, shared', reported, { ...reported, agentVersion: 'v0.2.0' }, false],
    ['neither reported yet', {}, undefined, false],
    ['an upgrade', reported, { ...reported, kubernetesVersion: 'v1.37.0' }, true],
    ['a served API added', reported, { ...reported, apiVersions: ['apps/v1', 'monitoring.coreos.com/v1', 'v1'] }, true],
    ['a served API replaced by another, the count unchanged', reported, { ...reported, apiVersions: ['apps/v1', 'batch/v1'] }, true],
    ['the first report', {}, reported, true],
    ['facts gone (status cleared)', reported, undefined, true],
  ])('%s', (_, old, current, changed) => {
    expect(capabilitiesChanged(old, current)).toBe(changed);
  });
});
