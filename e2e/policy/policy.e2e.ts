// PolicyBundles on a real hub and two spokes: templates stamped into namespaces as they appear and
// removed when they leave the selection, admission policies and Pod Security levels enforced by the
// spokes' own apiservers, Audit mode that reports without a single write, and a bundle that goes on
// following the spoke's namespaces with the hub down and its agent restarted.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WorkType, type PolicyBundleSpec, type Work } from '../../src/api/index.js';
import { sourceWorkName } from '../../src/work/naming.js';
import { KubeApiError, WRITE_METHODS, type Kube, type KubeObject } from '../../src/runtime/kube.js';
import { eventually, setAPIServer, uniqueName } from '../framework/index.js';
import { runAgent, type Member } from '../agent/harness.js';
import { bundleObject, readBundle, startPolicyEnv, WORKSPACE, type PolicyEnv } from './setup.js';

const NS = { apiVersion: 'v1', kind: 'Namespace' } as const;
const NETPOL = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' } as const;
const QUOTA = { apiVersion: 'v1', kind: 'ResourceQuota' } as const;
const ROLE = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' } as const;
const PSA = 'pod-security.kubernetes.io/enforce';
const writes = (counts: Readonly<Record<string, number>>): number => WRITE_METHODS.reduce((sum, m) => sum + (counts[m] ?? 0), 0);

let env: PolicyEnv;
beforeAll(async () => {
  env = await startPolicyEnv(['spoke-1', 'spoke-2']);
}, 120_000);
afterAll(async () => {
  await env.stop();
}, 60_000);

async function applyBundle(name: string, spec: PolicyBundleSpec): Promise<void> {
  await env.hub.apply(bundleObject(name, spec), { fieldManager: 'flotilla-e2e', force: true });
}

/** Waits until each targeted member's agent reports on a Work generation in the bundle's current mode. */
async function awaitAgents(name: string, members: readonly Member[] = env.members): Promise<void> {
  const bundle = await readBundle(env.hub, name);
  const mode = bundle.spec.mode ?? 'Enforce';
  for (const member of members) {
    await eventually(
      async () => {
        const work = await env.hub.get<Work & KubeObject>(
          WorkType,
          sourceWorkName({ kind: 'PolicyBundle', name: bundle.metadata.name ?? '' }),
          member.hubNamespace,
        );
        expect(work.spec.policy?.mode ?? mode).toBe(mode);
        expect(work.status?.observedGeneration).toBe(work.metadata.generation);
      },
      { timeoutMs: 30_000 },
    );
  }
}

async function deleteBundle(name: string): Promise<void> {
  await env.hub.delete({ apiVersion: 'flotilla.dev/v1alpha1', kind: 'PolicyBundle' }, name, WORKSPACE);
  await eventually(
    async () => {
      expect(await env.hub.getOrNull({ apiVersion: 'flotilla.dev/v1alpha1', kind: 'PolicyBundle' }, name, WORKSPACE)).toBeNull();
    },
    { timeoutMs: 30_000 },
  );
}

const present = async (kube: Kube, type: { apiVersion: string; kind: string }, name: string, namespace: string): Promise<boolean> =>
  (await kube.getOrNull(type, name, namespace)) !== null;

describe('PolicyBundle namespaced templates', () => {
  it('stamps a default-deny NetworkPolicy and a ResourceQuota into a namespace created later within 5 s, and removes them when it is relabelled out', async () => {
    const label = uniqueName('tenant');
    const name = uniqueName('baseline');
    await applyBundle(name, {
      placement: { clusterNames: env.members.map((m) => m.cluster) },
      namespaceSelector: { matchLabels: { 'e2e.flotilla.dev/tenant': label } },
      networkPolicies: [{ name: 'default-deny', spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } }],
      resourceQuotas: [{ name: 'compute', hard: { pods: '20', 'requests.cpu': '4' } }],
    });
    await awaitAgents(name);
    for (const member of env.members) {
      const ns = uniqueName('late');
      const created = Date.now();
      await member.spokeAdmin.create({ ...NS, metadata: { name: ns, labels: { 'e2e.flotilla.dev/tenant': label } } });
      await eventually(
        async () => {
          expect(await present(member.spokeAdmin, NETPOL, 'default-deny', ns)).toBe(true);
          expect(await present(member.spokeAdmin, QUOTA, 'compute', ns)).toBe(true);
        },
        { timeoutMs: 5_000, intervalMs: 50 },
      );
      process.stdout.write(`policy e2e: ${member.cluster} stamped a new namespace in ${Date.now() - created} ms\n`);

      await member.spokeAdmin.patch(
        NS,
        ns,
        undefined,
        { metadata: { labels: { 'e2e.flotilla.dev/tenant': 'elsewhere' } } },
        { type: 'merge' },
      );
      await eventually(
        async () => {
          expect(await present(member.spokeAdmin, NETPOL, 'default-deny', ns)).toBe(false);
          expect(await present(member.spokeAdmin, QUOTA, 'compute', ns)).toBe(false);
        },
        { timeoutMs: 10_000 },
      );
      await member.spokeAdmin.delete(NS, ns);
    }
    await eventually(
      async () => {
        const status = (await readBundle(env.hub, name)).status;
        expect(status?.clusters).toEqual({ targeted: 2, compliant: 2, nonCompliant: 0, unknown: 0 });
      },
      { timeoutMs: 30_000 },
    );
    await deleteBundle(name);
  }, 120_000);
});

describe('PolicyBundle admission and Pod Security', () => {
  it('has each spoke apiserver deny what a ValidatingAdmissionPolicy forbids and admit the rest, and refuse a privileged pod under restricted', async () => {
    const label = uniqueName('guarded');
    const name = uniqueName('admission');
    const vap = `require-team-${label}`;
    await applyBundle(name, {
      placement: { clusterNames: env.members.map((m) => m.cluster) },
      namespaceSelector: { matchLabels: { 'e2e.flotilla.dev/guarded': label } },
      podSecurity: { enforce: 'restricted' },
      admission: {
        policies: [
          {
            name: vap,
            spec: {
              failurePolicy: 'Fail',
              matchConstraints: {
                resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['configmaps'] }],
              },
              validations: [
                {
                  expression: "has(object.metadata.labels) && 'team' in object.metadata.labels",
                  message: 'a ConfigMap needs a team label',
                },
              ],
            },
          },
        ],
        bindings: [
          {
            name: vap,
            policyName: vap,
            validationActions: ['Deny'],
            matchResources: { namespaceSelector: { matchLabels: { 'e2e.flotilla.dev/guarded': label } } },
          },
        ],
      },
    });
    await awaitAgents(name);
    for (const member of env.members) {
      const ns = uniqueName('guarded');
      await member.spokeAdmin.create({ ...NS, metadata: { name: ns, labels: { 'e2e.flotilla.dev/guarded': label } } });
      const configMap = (cm: string, labels: Record<string, string>): KubeObject => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: cm, namespace: ns, labels },
        data: { a: '1' },
      });
      const denied = await eventually(
        async () => {
          const error = await member.spokeAdmin.create(configMap(uniqueName('bad'), {})).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(KubeApiError);
          return error as KubeApiError;
        },
        { timeoutMs: 20_000 },
      );
      expect(denied.apiMessage).toContain('a ConfigMap needs a team label');
      await member.spokeAdmin.create(configMap('good', { team: 'a' }));

      const privileged: KubeObject = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'privileged', namespace: ns },
        spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] },
      };
      const refused = await eventually(
        async () => {
          const error = await member.spokeAdmin.create(privileged).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(KubeApiError);
          return error as KubeApiError;
        },
        { timeoutMs: 10_000 },
      );
      expect(refused.code).toBe(403);
      expect(refused.apiMessage).toContain('restricted');
      const labels = (await member.spokeAdmin.get(NS, ns)).metadata.labels ?? {};
      expect(labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
      await member.spokeAdmin.delete(NS, ns);
    }
    await deleteBundle(name);
  }, 120_000);
});

describe('PolicyBundle Audit and Enforce', () => {
  it('in Audit reports a deleted Role as a violation without writing to the spoke; in Enforce the Role comes back', async () => {
    const label = uniqueName('audited');
    const name = uniqueName('rbac');
    const member = env.members[0];
    const agent = env.agents[0];
    if (!member || !agent) throw new Error('no member');
    const spec: PolicyBundleSpec = {
      placement: { clusterNames: [member.cluster] },
      namespaceSelector: { matchLabels: { 'e2e.flotilla.dev/audited': label } },
      rbac: { roles: [{ name: 'reader', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] }] },
    };
    const ns = uniqueName('audited');
    await member.spokeAdmin.create({ ...NS, metadata: { name: ns, labels: { 'e2e.flotilla.dev/audited': label } } });
    await applyBundle(name, { ...spec, mode: 'Enforce' });
    await eventually(
      async () => {
        expect(await present(member.spokeAdmin, ROLE, 'reader', ns)).toBe(true);
      },
      { timeoutMs: 30_000 },
    );

    await applyBundle(name, { ...spec, mode: 'Audit' });
    await awaitAgents(name, [member]);
    await eventually(() => {
      expect(agent.agent.stats().pending).toBe(0);
    });
    const before = writes(agent.spoke.requestCounts());
    await member.spokeAdmin.delete(ROLE, 'reader', ns);
    await eventually(
      async () => {
        const status = (await readBundle(env.hub, name)).status;
        expect(status?.clusters?.nonCompliant).toBe(1);
        expect(status?.violationsByKind).toEqual([{ kind: 'Role', count: 1 }]);
        expect(status?.worst?.[0]).toMatchObject({ cluster: member.cluster, kind: 'Role', policy: 'reader', namespace: ns });
      },
      { timeoutMs: 30_000 },
    );
    expect(await present(member.spokeAdmin, ROLE, 'reader', ns)).toBe(false);
    expect(writes(agent.spoke.requestCounts()) - before).toBe(0);

    await applyBundle(name, { ...spec, mode: 'Enforce' });
    await eventually(
      async () => {
        expect(await present(member.spokeAdmin, ROLE, 'reader', ns)).toBe(true);
      },
      { timeoutMs: 30_000 },
    );
    await eventually(
      async () => {
        expect((await readBundle(env.hub, name)).status?.clusters?.compliant).toBe(1);
      },
      { timeoutMs: 30_000 },
    );
    await deleteBundle(name);
    await member.spokeAdmin.delete(NS, ns);
  }, 120_000);
});

describe('PolicyBundle without the hub', () => {
  it('stamps a namespace created after an agent restart with the hub down, removes the copies when it is relabelled out, and reports once the hub is back', async () => {
    const label = uniqueName('offline');
    const name = uniqueName('offline');
    const member = env.members[0];
    const agent = env.agents[0];
    if (!member || !agent) throw new Error('no member');
    const tenant = (value: string): KubeObject => ({ ...NS, metadata: { name: ns, labels: { 'e2e.flotilla.dev/offline': value } } });
    const ns = uniqueName('offline');
    const stamped = async (): Promise<[boolean, boolean, string | undefined]> => [
      await present(member.spokeAdmin, NETPOL, 'default-deny', ns),
      await present(member.spokeAdmin, QUOTA, 'compute', ns),
      (await member.spokeAdmin.get(NS, ns)).metadata.labels?.[PSA],
    ];
    await applyBundle(name, {
      placement: { clusterNames: [member.cluster] },
      namespaceSelector: { matchLabels: { 'e2e.flotilla.dev/offline': label } },
      networkPolicies: [{ name: 'default-deny', spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } }],
      resourceQuotas: [{ name: 'compute', hard: { pods: '20' } }],
      podSecurity: { enforce: 'baseline' },
    });
    await awaitAgents(name, [member]);
    const workName = sourceWorkName({ kind: 'PolicyBundle', name });
    expect(
      (await env.hub.get<KubeObject & { status?: { counts?: { total: number } } }>(WorkType, workName, member.hubNamespace)).status?.counts
        ?.total,
    ).toBe(0);

    await agent.stop();
    try {
      await setAPIServer('hub', 'stop');
      const restarted = await runAgent(member);
      env.agents[0] = restarted;
      const created = Date.now();
      await member.spokeAdmin.create(tenant(label));
      await eventually(
        async () => {
          expect(await stamped()).toEqual([true, true, 'baseline']);
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      );
      process.stdout.write(
        `policy e2e: ${member.cluster} stamped a new namespace without the hub, after an agent restart, in ${Date.now() - created} ms\n`,
      );
      expect(restarted.agent.stats().hubSynced).toBe(false);

      await member.spokeAdmin.apply(tenant('elsewhere'), { fieldManager: 'flotilla-e2e', force: true });
      await eventually(
        async () => {
          expect(await stamped()).toEqual([false, false, undefined]);
        },
        { timeoutMs: 15_000 },
      );
      await member.spokeAdmin.apply(tenant(label), { fieldManager: 'flotilla-e2e', force: true });
      await eventually(
        async () => {
          expect(await stamped()).toEqual([true, true, 'baseline']);
        },
        { timeoutMs: 15_000 },
      );
    } finally {
      await setAPIServer('hub', 'start');
    }
    await eventually(
      async () => {
        const work = await env.hub.get<KubeObject & { status?: { counts?: object } }>(WorkType, workName, member.hubNamespace);
        expect(work.status?.counts).toMatchObject({ total: 3, applied: 3, failed: 0 });
      },
      { timeoutMs: 90_000 },
    );
    await eventually(
      async () => {
        expect((await readBundle(env.hub, name)).status?.clusters).toEqual({ targeted: 1, compliant: 1, nonCompliant: 0, unknown: 0 });
      },
      { timeoutMs: 60_000 },
    );
    await deleteBundle(name);
    await eventually(
      async () => {
        expect(await stamped()).toEqual([false, false, undefined]);
      },
      { timeoutMs: 30_000 },
    );
    await member.spokeAdmin.delete(NS, ns);
  }, 240_000);
});
