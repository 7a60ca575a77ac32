// Where the real inputs under test/fixtures/ are (each folder's ORIGIN.md names its source).
import { join } from 'node:path';
import { repoRoot } from './testenv.js';

const root = join(repoRoot, 'test', 'fixtures');

export const fixtures = {
  /** cert-manager v1.21.1: CRDs from templates with `crds.enabled=true`; `post-install` hooks. */
  certManagerChart: join(root, 'charts', 'cert-manager'),
  /** ingress-nginx 4.15.1: `pre-install` and `post-install` hook Jobs; KubeVersion checks. */
  ingressNginxChart: join(root, 'charts', 'ingress-nginx'),
  /** prometheus-redis-exporter 6.29.0: a ServiceMonitor only where monitoring.coreos.com/v1 is served. */
  redisExporterChart: join(root, 'charts', 'prometheus-redis-exporter'),
  /** sealed-secrets 2.18.5: a CRD in Helm's `crds/` folder. */
  sealedSecretsChart: join(root, 'charts', 'sealed-secrets'),
  /** kube-prometheus v0.18.0: a folder holding `manifests/` (95 files, 5.6 MB) as published. */
  kubePrometheus: join(root, 'kube-prometheus'),
  /** The ServiceMonitor CRD (prometheus-operator v0.92.0) alone, for one spoke. */
  serviceMonitorCRD: join(root, 'crds', 'monitoring.coreos.com_servicemonitors.yaml'),
} as const;
