// What a tenant may ship, on real planes: the hub operator and a real `flotilla agent` run as
// processes of the built CLI; spoke-1 joins a fleet that keeps the default restrictions. A source
// that would make the agent destroy itself (issue 11 §2) or make its author cluster-admin (§3) is
// refused at the hub, and the same manifests in a Work written straight to the hub are refused by
// the agent, each one named, while the rest of the Work applies.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { apiVersion, memberNamespace, type GlobalService, type Manifest, type PolicyBundle, type Work } from '../../src/api/index.js';
import { workObjects } from '../../src/work/objects.js';
import { findCondition, kubeFromFile, type Condition, type Kube, type KubeObject } from '../../src/runtime/index.js';
import { FLEET_RULES_CONFIGMAP } from '../../src/agent/fleet-rules.js';
import { eventually, kubectlOk, plane, setAPIServer, uniqueName } from '../framework/index.js';
import { runFlotilla, startProgram, stopAll, type Program } from '../membership/processes.js';

const hubConfig = plane('hub').kubeconfigPath;
const hub: Kube = kubeFromFile(hubConfig, undefined, { userAgent: 'security-e2e' });
const spoke: Kube = kubeFromFile(plane('spoke-1').kubeconfigPath, undefined, { userAgent: 'security-e2e' });
const fleet = uniqueName('sec');
const workspace = `fleet-${fleet}`;
const cluster = uniqueName('tenant');
const hubNamespace = memberNamespace(cluster);
const app = uniqueName('app');

type Source = (GlobalService | PolicyBundle) & KubeObject;
const ServiceType = { apiVersion, kind: 'GlobalService' } as const;
const BundleType = { apiVersion, kind: 'PolicyBundle' } as const;
const WorkType = { apiVersion, kind: 'Work' } as const;
const NamespaceType = { apiVersion: 'v1', kind: 'Namespace' } as const;
const SecretType = { apiVersion: 'v1', kind: 'Secret' } as const;
const ConfigMapType = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const BindingType = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' } as const;
const NetworkPolicyType = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' } as const;

const namespace = (name: string): Manifest => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { owner: 'tenant' } } });
const configMap = (name: string, ns = app): Manifest => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns },
  data: { who: 'tenant' },
});
const clusterAdminBinding = (name: string): Manifest => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ kind: 'User', name: 'mallory' }],
});

const condition = (source: { status?: { conditions?: Condition[] } }, type: string): Condition | undefined =>
  findCondition(source.status?.conditions, type);
const exists = async (type: { apiVersion: string; kind: string }, name: string, ns?: string): Promise<boolean> =>
  (await spoke.getOrNull(type, name, ns)) !== null;

function serviceObject(name: string, manifests: Manifest[], adoption: 'Never' | 'Always' = 'Never'): Source {
  return {
    apiVersion,
    kind: 'GlobalService',
    metadata: { name, namespace: workspace },
    spec: { placement: { clusterNames: [cluster] }, source: { manifests }, adoption, rollout: { strategy: 'AllAtOnce' } },
  };
}

/** Waits until the source is Stalled for a refused manifest, and returns the condition's message. */
async function refusedAtHub(type: typeof ServiceType | typeof BundleType, name: string): Promise<string> {
  return eventually(
    async () => {
      const source = await hub.get<Source>(type, name, workspace);
      expect(condition(source, 'Stalled')).toMatchObject({ status: 'True', reason: 'ManifestRefused' });
      expect(condition(source, 'Ready')?.status).toBe('False');
      return condition(source, 'Stalled')?.message ?? '';
    },
    { timeoutMs: 60_000, intervalMs: 300 },
  );
}

/** A Work written straight to the hub, as anyone who may write Works (not the hub) could. */
async function writeWorkDirectly(name: string, manifests: Manifest[]): Promise<void> {
  const result = workObjects({
    cluster,
    name: `gs-${name}`,
    manifests,
    applyOptions: { adoption: 'Always' },
    source: { kind: 'GlobalService', namespace: workspace, name, generation: 1, revision: name },
  });
  if (!result.ok) throw new Error(result.message);
  for (const work of result.works) await hub.apply(work as Work & KubeObject, { fieldManager: 'security-e2e', force: true });
}

let agent: Program;
let hubOperator: Program;
const startHub = (): Program => startProgram(`hub-${fleet}`, ['hub', '--kubeconfig', hubConfig, '--health-address', '127.0.0.1:0']);
const startAgent = (): Program =>
  startProgram(`agent-${cluster}`, [
    'agent',
    '--kubeconfig',
    plane('spoke-1').kubeconfigPath,
    '--heartbeat-interval',
    '2s',
    '--identity',
    cluster,
    '--health-address',
    '127.0.0.1:0',
  ]);

const readWork = (name: string): Promise<Work & KubeObject> => hub.get<Work & KubeObject>(WorkType, `gs-${name}`, hubNamespace);
const entryOf = (work: Work, kind: string, name: string) => work.status?.manifests?.find((m) => m.kind === kind && m.name === name);

beforeAll(async () => {
  const install = await runFlotilla(['install', '--kubeconfig', hubConfig]);
  if (install.code !== 0) throw new Error(`flotilla install failed: ${install.stderr}`);
  hubOperator = startHub();
  // A new fleet, restrictions left out: the secure defaults.
  await hub.create({ apiVersion, kind: 'Fleet', metadata: { name: fleet } });
  const joined = await runFlotilla(['join', cluster, '--fleet', fleet, '--kubeconfig', hubConfig]);
  if (joined.code !== 0) throw new Error(`flotilla join failed: ${joined.stderr}`);
  await kubectlOk('spoke-1', ['apply', '-f', '-'], joined.stdout);
  agent = startAgent();
  await eventually(
    async () => {
      const member = await hub.get<KubeObject & { status?: { conditions?: Condition[] } }>({ apiVersion, kind: 'MemberCluster' }, cluster);
      expect(condition(member, 'Ready')?.status).toBe('True');
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
}, 180_000);

afterAll(async () => {
  for (const name of ['self-destruct', 'escalate']) await hub.delete(ServiceType, name, workspace).catch(() => undefined);
  await hub.delete(BundleType, 'deny-all', workspace).catch(() => undefined);
  for (const work of (await hub.list(WorkType, { namespace: hubNamespace }).catch(() => ({ items: [] }))).items) {
    await hub.delete(WorkType, work.metadata.name ?? '', hubNamespace).catch(() => undefined);
  }
  await eventually(
    async () => {
      expect((await hub.list(ServiceType, { namespace: workspace })).items).toHaveLength(0);
      expect((await hub.list(BundleType, { namespace: workspace })).items).toHaveLength(0);
    },
    { timeoutMs: 60_000 },
  ).catch(() => undefined);
  await stopAll();
  await hub.delete({ apiVersion, kind: 'MemberCluster' }, cluster).catch(() => undefined);
  await hub.delete({ apiVersion, kind: 'Fleet' }, fleet).catch(() => undefined);
  for (const ns of [app, `${app}-direct`, `${app}-after`, `${app}-admin`]) await spoke.delete(NamespaceType, ns).catch(() => undefined);
  hub.close();
  spoke.close();
}, 120_000);

describe('the agent cannot be made to destroy itself (issue 11 §2)', () => {
  it('refuses at the hub a GlobalService that adopts Namespace flotilla-system, naming the manifest, and ships nothing of it', async () => {
    await hub.create(serviceObject('self-destruct', [namespace(app), namespace('flotilla-system'), configMap('settings')], 'Always'));
    const message = await refusedAtHub(ServiceType, 'self-destruct');
    expect(message).toContain('Namespace/flotilla-system');
    expect(message).toContain('agentProtection');
    expect(await hub.getOrNull(WorkType, 'gs-self-destruct', hubNamespace)).toBeNull();
    expect(await exists(NamespaceType, app)).toBe(false);
  });

  it('refuses the same manifest in a Work written straight to the hub; deleting the Work leaves flotilla-system, the bootstrap Secret and a working agent', async () => {
    const direct = `${app}-direct`;
    const bootstrapBefore = await spoke.get(SecretType, 'flotilla-agent-bootstrap', 'flotilla-system');
    await writeWorkDirectly('direct-self', [namespace('flotilla-system'), namespace(direct), configMap('settings', direct)]);
    const work = await eventually(
      async () => {
        const current = await readWork('direct-self');
        expect(current.status?.observedGeneration).toBe(current.metadata.generation);
        expect(entryOf(current, 'ConfigMap', 'settings')?.applied).toBe(true);
        return current;
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    expect(entryOf(work, 'Namespace', 'flotilla-system')).toMatchObject({
      applied: false,
      message: expect.stringContaining("refused: namespace flotilla-system is the flotilla agent's own"),
    });
    expect(condition(work, 'Applied')).toMatchObject({ status: 'False', reason: 'Refused' });
    expect((await spoke.get(NamespaceType, 'flotilla-system')).metadata.labels?.owner).toBeUndefined();

    await hub.delete(WorkType, 'gs-direct-self', hubNamespace);
    // The agent prunes what the Work made, and nothing of its own.
    await eventually(
      async () => {
        expect(await exists(ConfigMapType, 'settings', direct)).toBe(false);
        const ns = await spoke.getOrNull(NamespaceType, direct);
        expect(ns === null || ns.metadata.deletionTimestamp !== undefined).toBe(true);
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    const system = await spoke.get(NamespaceType, 'flotilla-system');
    expect(system.metadata.deletionTimestamp).toBeUndefined();
    const bootstrapAfter = await spoke.get(SecretType, 'flotilla-agent-bootstrap', 'flotilla-system');
    expect(bootstrapAfter.metadata.uid).toBe(bootstrapBefore.metadata.uid);

    // And the agent still works: a new Work is applied and reported.
    const after = `${app}-after`;
    await writeWorkDirectly('still-alive', [namespace(after), configMap('alive', after)]);
    await eventually(
      async () => {
        expect(await exists(ConfigMapType, 'alive', after)).toBe(true);
        expect(condition(await readWork('still-alive'), 'Applied')?.status).toBe('True');
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
  }, 180_000);
});

describe('tenants ship only what their fleet allows (issue 11 §3)', () => {
  it('stalls a GlobalService whose new revision binds cluster-admin, naming the manifest; the cluster keeps the last good revision', async () => {
    await hub.create(serviceObject('escalate', [namespace(app), configMap('settings')]));
    const good = await eventually(
      async () => {
        const service = await hub.get<Source>(ServiceType, 'escalate', workspace);
        expect(condition(service, 'Ready')?.status).toBe('True');
        return (service as GlobalService).status?.revision ?? '';
      },
      { timeoutMs: 90_000, intervalMs: 300 },
    );
    const binding = uniqueName('mallory-admin');
    await hub.patch(
      ServiceType,
      'escalate',
      workspace,
      { spec: { source: { manifests: [namespace(app), configMap('settings'), clusterAdminBinding(binding)] } } },
      { type: 'merge' },
    );
    const message = await refusedAtHub(ServiceType, 'escalate');
    expect(message).toContain(`ClusterRoleBinding.rbac.authorization.k8s.io/${binding}`);
    expect(message).toContain('restrictions.globalServices.rbac');
    expect((await readWork('escalate')).spec.source.revision).toBe(good);
    expect(await exists(BindingType, binding)).toBe(false);
    await hub.delete(ServiceType, 'escalate', workspace);
    await eventually(
      async () => {
        expect(await hub.getOrNull(ServiceType, 'escalate', workspace)).toBeNull();
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
  }, 180_000);

  it('refuses on the spoke a cluster-admin binding in a Work written straight to the hub, and applies the rest', async () => {
    const binding = uniqueName('mallory-direct');
    const admin = `${app}-admin`;
    await writeWorkDirectly('direct-admin', [namespace(admin), configMap('direct', admin), clusterAdminBinding(binding)]);
    const work = await eventually(
      async () => {
        const current = await readWork('direct-admin');
        expect(current.status?.observedGeneration).toBe(current.metadata.generation);
        expect(entryOf(current, 'ConfigMap', 'direct')?.applied).toBe(true);
        return current;
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    expect(entryOf(work, 'ClusterRoleBinding', binding)).toMatchObject({
      applied: false,
      message: expect.stringContaining('refused: it binds the ClusterRole cluster-admin (restrictions.globalServices.rbac)'),
    });
    expect(await exists(BindingType, binding)).toBe(false);
    expect(await exists(ConfigMapType, 'direct', admin)).toBe(true);

    // The agent's rules are its Fleet's: lifting the restriction there lets the binding through.
    await hub.patch(
      { apiVersion, kind: 'Fleet' },
      fleet,
      undefined,
      { spec: { restrictions: { globalServices: { rbac: 'Unrestricted' } } } },
      { type: 'merge' },
    );
    await eventually(
      async () => {
        expect(await exists(BindingType, binding)).toBe(true);
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    await hub.patch(
      { apiVersion, kind: 'Fleet' },
      fleet,
      undefined,
      { spec: { restrictions: { globalServices: { rbac: 'Restricted' } } } },
      { type: 'merge' },
    );
    await hub.delete(WorkType, 'gs-direct-admin', hubNamespace);
    await eventually(
      async () => {
        expect(await exists(BindingType, binding)).toBe(false);
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
  }, 180_000);

  it("judges by its fleet's last rules, kept on the spoke, after a restart while the hub is down", async () => {
    const binding = uniqueName('kept-admin');
    await hub.patch(
      { apiVersion, kind: 'Fleet' },
      fleet,
      undefined,
      { spec: { restrictions: { globalServices: { rbac: 'Unrestricted' } } } },
      { type: 'merge' },
    );
    await writeWorkDirectly('kept-admin', [clusterAdminBinding(binding)]);
    await eventually(
      async () => {
        expect(await exists(BindingType, binding)).toBe(true);
        const kept = await spoke.get(ConfigMapType, FLEET_RULES_CONFIGMAP, 'flotilla-system');
        expect(JSON.parse((kept.data as { restrictions: string }).restrictions)).toMatchObject({
          globalServices: { rbac: 'Unrestricted' },
        });
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );

    await agent.stop();
    await setAPIServer('hub', 'stop');
    try {
      agent = startAgent();
      await spoke.delete(BindingType, binding);
      // Under the defaults the binding would be refused; under the kept rules the local copy puts it back.
      await eventually(
        async () => {
          expect(await exists(BindingType, binding)).toBe(true);
        },
        { timeoutMs: 60_000, intervalMs: 300 },
      );
    } finally {
      await setAPIServer('hub', 'start');
    }
    // The hub operator gives up its lease in the outage and exits, as it should: start it again, as its Deployment would.
    await hubOperator.stop();
    hubOperator = startHub();
    await hub.patch(
      { apiVersion, kind: 'Fleet' },
      fleet,
      undefined,
      { spec: { restrictions: { globalServices: { rbac: 'Restricted' } } } },
      { type: 'merge' },
    );
    await hub.delete(WorkType, 'gs-kept-admin', hubNamespace);
    await eventually(
      async () => {
        expect(await exists(BindingType, binding)).toBe(false);
      },
      { timeoutMs: 90_000, intervalMs: 300 },
    );
  }, 240_000);

  it('does not stamp a PolicyBundle with excludeNamespaces: [] into kube-system under the defaults', async () => {
    await hub.create({
      apiVersion,
      kind: 'PolicyBundle',
      metadata: { name: 'deny-all', namespace: workspace },
      spec: {
        // The system namespaces and one of the test's own, by the name label every namespace carries.
        placement: { clusterNames: [cluster] },
        excludeNamespaces: [],
        namespaceSelector: {
          matchExpressions: [
            {
              key: 'kubernetes.io/metadata.name',
              operator: 'In',
              values: [`${app}-after`, 'kube-system', 'kube-public', 'kube-node-lease', 'flotilla-system'],
            },
          ],
        },
        networkPolicies: [{ name: 'deny-all', spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } }],
      },
    });
    await eventually(
      async () => {
        expect(await exists(NetworkPolicyType, 'deny-all', `${app}-after`)).toBe(true);
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    for (const system of ['kube-system', 'kube-public', 'kube-node-lease', 'flotilla-system']) {
      expect(await spoke.getOrNull(NetworkPolicyType, 'deny-all', system)).toBeNull();
    }
  }, 120_000);
});

// The fleet's own declaration is validated at `kubectl apply`, naming the field.
describe('the restrictions declaration', () => {
  it('refuses a namespace that is both allowed and denied, naming the field', async () => {
    const error = await hub
      .create({
        apiVersion,
        kind: 'Fleet',
        metadata: { name: uniqueName('bad') },
        spec: { restrictions: { globalServices: { allowedNamespaces: ['web'], deniedNamespaces: ['web'] } } },
      })
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    expect(String((error as { apiMessage?: string } | undefined)?.apiMessage ?? error)).toContain(
      'spec.restrictions.globalServices.allowedNamespaces',
    );
  });

  it('shows the secure defaults on a Fleet that leaves them out', async () => {
    const live = await hub.get<KubeObject & { spec?: { restrictions?: unknown } }>({ apiVersion, kind: 'Fleet' }, fleet);
    expect(yaml.dump(live.spec?.restrictions)).toContain('kube-system');
  });
});
