import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../runtime/kube.js';
import type { ScopeResolver } from '../work/identity.js';
import { manifest } from '../work/testing.js';
import { applyOrder, pruneOrder } from './order.js';

const label = (m: KubeObject): string => `${m.kind}/${m.metadata.name ?? ''}`;

describe('applyOrder', () => {
  it.each([
    [
      'namespaces and CRDs first, then cluster-scoped, then namespaced, admission last',
      [
        manifest('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'vwc'),
        manifest('apps/v1', 'Deployment', 'web', 'shop'),
        manifest('example.com/v1', 'Widget', 'w', 'shop'),
        manifest('rbac.authorization.k8s.io/v1', 'ClusterRole', 'cr'),
        manifest('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'widgets.example.com'),
        manifest('v1', 'Namespace', 'shop'),
      ],
      [
        'Namespace/shop',
        'CustomResourceDefinition/widgets.example.com',
        'ClusterRole/cr',
        'Deployment/web',
        'Widget/w',
        'ValidatingWebhookConfiguration/vwc',
      ],
    ],
    [
      'Helm-like kind order within the namespaced phase',
      [
        manifest('networking.k8s.io/v1', 'Ingress', 'i', 'shop'),
        manifest('batch/v1', 'CronJob', 'cj', 'shop'),
        manifest('batch/v1', 'Job', 'j', 'shop'),
        manifest('apps/v1', 'StatefulSet', 'ss', 'shop'),
        manifest('apps/v1', 'Deployment', 'd', 'shop'),
        manifest('apps/v1', 'DaemonSet', 'ds', 'shop'),
        manifest('v1', 'Service', 'svc', 'shop'),
        manifest('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rb', 'shop'),
        manifest('rbac.authorization.k8s.io/v1', 'Role', 'r', 'shop'),
        manifest('v1', 'PersistentVolumeClaim', 'pvc', 'shop'),
        manifest('v1', 'ConfigMap', 'cm', 'shop'),
        manifest('v1', 'Secret', 's', 'shop'),
        manifest('v1', 'ServiceAccount', 'sa', 'shop'),
      ],
      [
        'ServiceAccount/sa',
        'Secret/s',
        'ConfigMap/cm',
        'PersistentVolumeClaim/pvc',
        'Role/r',
        'RoleBinding/rb',
        'Service/svc',
        'DaemonSet/ds',
        'Deployment/d',
        'StatefulSet/ss',
        'Job/j',
        'CronJob/cj',
        'Ingress/i',
      ],
    ],
    [
      'Helm-like kind order within the cluster-scoped phase',
      [
        manifest('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'crb'),
        manifest('rbac.authorization.k8s.io/v1', 'ClusterRole', 'cr'),
        manifest('storage.k8s.io/v1', 'StorageClass', 'sc'),
        manifest('scheduling.k8s.io/v1', 'PriorityClass', 'pc'),
      ],
      ['PriorityClass/pc', 'StorageClass/sc', 'ClusterRole/cr', 'ClusterRoleBinding/crb'],
    ],
    [
      'ties keep their original order, unknown kinds after known ones in author order',
      [
        manifest('cert-manager.io/v1', 'Issuer', 'ca', 'shop'),
        manifest('v1', 'ConfigMap', 'b', 'shop'),
        manifest('cert-manager.io/v1', 'Certificate', 'tls', 'shop'),
        manifest('v1', 'ConfigMap', 'a', 'shop'),
      ],
      ['ConfigMap/b', 'ConfigMap/a', 'Issuer/ca', 'Certificate/tls'],
    ],
    [
      'webhooks and admission policies after the workloads that serve them',
      [
        manifest('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', 'mwc'),
        manifest('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding', 'vapb'),
        manifest('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy', 'vap'),
        manifest('apiregistration.k8s.io/v1', 'APIService', 'v1.metrics'),
        manifest('apps/v1', 'Deployment', 'server', 'shop'),
      ],
      [
        'Deployment/server',
        'APIService/v1.metrics',
        'ValidatingAdmissionPolicy/vap',
        'ValidatingAdmissionPolicyBinding/vapb',
        'MutatingWebhookConfiguration/mwc',
      ],
    ],
    ['an empty Work', [], []],
  ])('%s', (_name, manifests, expected) => {
    expect(applyOrder(manifests).map(label)).toEqual(expected);
  });

  it('uses the scope the caller supplies for custom kinds', () => {
    const manifests = [manifest('example.com/v1', 'Tenant', 't', 'ignored'), manifest('v1', 'ConfigMap', 'c', 'shop')];
    const discovery: ScopeResolver = ({ kind }) => (kind === 'Tenant' ? true : undefined);
    expect(applyOrder(manifests).map(label)).toEqual(['ConfigMap/c', 'Tenant/t']);
    expect(applyOrder(manifests, discovery).map(label)).toEqual(['Tenant/t', 'ConfigMap/c']);
  });

  it('does not reorder its input', () => {
    const manifests = [manifest('apps/v1', 'Deployment', 'd', 'shop'), manifest('v1', 'Namespace', 'shop')];
    applyOrder(manifests);
    expect(manifests.map(label)).toEqual(['Deployment/d', 'Namespace/shop']);
  });

  it('prunes in exactly the reverse of the apply order', () => {
    const manifests = [
      manifest('v1', 'ConfigMap', 'b', 'shop'),
      manifest('apps/v1', 'Deployment', 'd', 'shop'),
      manifest('v1', 'Namespace', 'shop'),
      manifest('v1', 'ConfigMap', 'a', 'shop'),
      manifest('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'x.example.com'),
    ];
    expect(pruneOrder(manifests)).toEqual(applyOrder(manifests).reverse());
    expect(pruneOrder(manifests).map(label)).toEqual([
      'Deployment/d',
      'ConfigMap/a',
      'ConfigMap/b',
      'CustomResourceDefinition/x.example.com',
      'Namespace/shop',
    ]);
  });
});
