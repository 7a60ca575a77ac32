// The hub keeps its leadership while it delivers a multi-megabyte payload: kube-prometheus's
// published manifests/ folder (3.7 MB as JSON) from a local Git repository to simulated member
// clusters (simulated.ts), each of which renders it differently (an override annotates every
// Deployment with the cluster's name), so that every cluster's Work is serialised and compressed
// afresh. The hub runs as the built CLI with its production leader-election timings (lease 15 s,
// renew deadline 10 s); done in one stretch on the event loop, the encoding alone takes longer than
// that (about half a second per cluster on a quiet machine), and the hub would lose its lease
// and exit. Also the hub's /metrics reports its event-loop delay.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiVersion, labels, type GlobalService, type Manifest, type Work } from '../../src/api/index.js';
import { LeaseType, type Kube, type KubeObject, type Lease } from '../../src/runtime/index.js';
import { decodeContent } from '../../src/work/payload.js';
import { eventually, fixtures, temporaryDirectory, uniqueName } from '../framework/index.js';
import { fleetOnPlanes } from './fleet-on-planes.js';
import { createSimulatedMembers } from './simulated.js';

const CLUSTERS = 40;
const setup = fleetOnPlanes({
  prefix: 'lease',
  userAgent: 'lease-under-load-e2e',
  spokes: [],
  // kube-prometheus puts a Role and a RoleBinding into kube-system and grants `*` on metrics.k8s.io.
  fleetSpec: {
    restrictions: { globalServices: { deniedNamespaces: ['kube-public', 'kube-node-lease', 'flotilla-system'], rbac: 'Unrestricted' } },
  },
  hubArgs: () => Promise.resolve(['--allow-local-sources']),
});
const { workspace } = setup;
const hub: Kube = setup.hub;
const prefix = uniqueName('heavy');
type Service = GlobalService & KubeObject;
const ServiceType = { apiVersion, kind: 'GlobalService' } as const;
const WorkType = { apiVersion, kind: 'Work' } as const;
let repository: { path: string; remove: () => Promise<void> };
let names: string[] = [];

beforeAll(async () => {
  await setup.start();
  repository = await temporaryDirectory('kube-prometheus-repository');
  cpSync(fixtures.kubePrometheus, repository.path, { recursive: true });
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...args], { cwd: repository.path, encoding: 'utf8' });
  git('init', '--quiet', '--initial-branch=main');
  git('add', '--all');
  git('commit', '--quiet', '--message', 'kube-prometheus');
  names = await createSimulatedMembers(hub, prefix, CLUSTERS, setup.fleet, { sim: prefix });
}, 300_000);

afterAll(async () => {
  await hub.delete(ServiceType, 'kube-prometheus', workspace).catch(() => undefined);
  await setup.stop();
  for (const name of names) await hub.delete({ apiVersion, kind: 'MemberCluster' }, name).catch(() => undefined);
  await repository.remove();
}, 300_000);

/** The hub's /metrics, at the health address it logged (port 0 picked a free one). */
async function hubMetrics(): Promise<string> {
  const lines = readFileSync(setup.hubProgram().logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('serving /healthz'));
  const port = Number(/"port":(\d+)/.exec(lines.at(-1) ?? '')?.[1]);
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

const gauge = (metrics: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);

describe('the hub under a heavy fan-out', () => {
  it(`keeps its leader lease while it renders and writes kube-prometheus for ${CLUSTERS} clusters, each differently`, async () => {
    const leaseBefore = await eventually(async () => {
      const lease = await hub.get<Lease>(LeaseType, 'flotilla-hub', 'flotilla-system');
      expect(lease.spec?.holderIdentity).toBeTruthy();
      return lease;
    });
    // The workspace namespace is the hub's to make, once it sees the Fleet.
    await eventually(
      () =>
        hub.create<Service>({
          apiVersion,
          kind: 'GlobalService',
          metadata: { name: 'kube-prometheus', namespace: workspace },
          spec: {
            placement: { clusterSelector: { matchLabels: { sim: prefix } } },
            source: { git: { url: `file://${repository.path}`, ref: { branch: 'main' }, path: 'manifests', interval: '10m' } },
            overrides: [
              {
                name: 'per-cluster',
                clusterSelector: { matchLabels: { sim: prefix } },
                patches: [
                  {
                    target: { kind: 'Deployment' },
                    operations: [{ op: 'add', path: '/metadata/annotations', value: { 'example.com/cluster': '${cluster.name}' } }],
                  },
                ],
              },
            ],
            rollout: { strategy: 'AllAtOnce', progressDeadlineSeconds: 3600 },
          },
        }),
      { timeoutMs: 120_000 },
    );
    const hubExit = await eventually(
      async () => {
        const exited = setup.hubProgram().child.exitCode;
        if (exited !== null) return exited;
        const service = await hub.get<Service>(ServiceType, 'kube-prometheus', workspace);
        expect(service.status?.clusters).toMatchObject({ targeted: CLUSTERS, updated: CLUSTERS, failed: 0 });
        return null;
      },
      { timeoutMs: 900_000, intervalMs: 2000 },
    );
    // Still running and still the leader it was: no "lost the leader lease", no new holder.
    expect(hubExit).toBeNull();
    expect(readFileSync(setup.hubProgram().logFile, 'utf8')).not.toContain('lost the leader lease');
    const leaseAfter = await hub.get<Lease>(LeaseType, 'flotilla-hub', 'flotilla-system');
    expect(leaseAfter.spec?.holderIdentity).toBe(leaseBefore.spec?.holderIdentity);
    expect(leaseAfter.spec?.leaseTransitions).toBe(leaseBefore.spec?.leaseTransitions);
    expect(leaseAfter.spec?.renewTime).not.toBe(leaseBefore.spec?.renewTime);

    // What each cluster receives: kube-prometheus, its Deployments annotated with that cluster's name.
    for (const cluster of [names[0], names[CLUSTERS - 1]]) {
      const works = await hub.list<Work & KubeObject>(WorkType, {
        namespace: `flotilla-member-${cluster ?? ''}`,
        labelSelector: `${labels.sourceName}=kube-prometheus`,
      });
      const decoded = decodeContent(works.items.map((work) => work.spec));
      if (!decoded.ok) throw new Error(decoded.message);
      const deployments = decoded.manifests.filter((m: Manifest) => m.kind === 'Deployment');
      expect(deployments.map((d) => d.metadata.name)).toContain('prometheus-operator');
      for (const deployment of deployments) expect(deployment.metadata.annotations?.['example.com/cluster']).toBe(cluster);
    }

    // The event loop's delay, as Prometheus scrapes it from the hub.
    const metrics = await hubMetrics();
    expect(gauge(metrics, 'flotilla_nodejs_eventloop_lag_max_seconds')).toBeGreaterThan(0);
    expect(gauge(metrics, 'flotilla_nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
  }, 1_200_000);
});
