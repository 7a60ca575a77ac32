// The charts on real planes, and the least-privilege proof: `helm install` the hub chart on the hub
// and the agent chart on both spokes (kwok runs their Pods as fake Pods), then run the real hub
// operator and agents as processes with the tokens of the charts' own ServiceAccounts — never admin
// credentials — through membership, a GlobalService on both spokes, drift correction, a
// PolicyBundle and deletion. With the hub chart's identity, what it must not do is refused. The hub
// chart's dashboard (dashboard.enabled, with a TLS Secret) runs as its Pod would — its Deployment's
// own arguments, its ServiceAccount's token, its Secret's certificate — and serves two viewers their
// own fleets only; its identity is refused Secrets and every write. The agents' status reports go
// through the hub chart's own API priority level.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import {
  createTestTLS,
  eventually,
  kubectl,
  kubectlOk,
  plane,
  repoRoot,
  uniqueName,
  type PlaneName,
  type TestTLS,
} from '../framework/index.js';
import { helm } from '../framework/tools.js';
import { runFlotilla, startProgram, stopAll, type Program } from '../membership/processes.js';
import { apiVersion, group, type ManifestStatus, type WorkStatus } from '../../src/api/index.js';
import { dashboardRoleName } from '../../src/dashboard/permissions.js';
import { agentStatusPriorityName } from '../../src/hub/api-priority.js';
import type { ClusterPage, Overview, ServiceView } from '../../src/dashboard/views.js';
import { isForbidden, kubeFromFile, type Kube, type KubeObject } from '../../src/runtime/index.js';
import { createSimulatedMembers } from '../globalservice/simulated.js';
import { startDashboard, viewerGet, viewerJson, viewerToken, writeTokenKubeconfig } from '../dashboard/dashboard-program.js';

const home = mkdtempSync(join(tmpdir(), 'flotilla-charts-e2e-'));
const fleet = uniqueName('charts');
const workspace = `fleet-${fleet}`;
const appNamespace = uniqueName('app');
const spokes = [
  { plane: 'spoke-1' as PlaneName, name: uniqueName('broad'), values: ['--set', 'rbac.mode=broad'] },
  {
    plane: 'spoke-2' as PlaneName,
    name: uniqueName('narrow'),
    values: [
      '--set',
      'rbac.mode=narrow',
      '--set-json',
      `rbac.manage=[{"apiGroups":[""],"resources":["configmaps","resourcequotas"],"namespaces":["${appNamespace}"]}]`,
    ],
  },
];
const programs: Program[] = [];
let hubAsChart: Kube | undefined;
/** The hub chart's dashboard serves with this certificate, from the Secret named in its values. */
const dashboardTLSSecret = 'flotilla-dashboard-tls';
let dashboardTLS: TestTLS;

/** A kubeconfig for `plane` carrying a fresh TokenRequest token of flotilla-system/`account`: the chart's identity. */
async function chartIdentity(target: PlaneName, account: string): Promise<string> {
  const token = (await kubectlOk(target, ['create', 'token', account, '-n', 'flotilla-system', '--duration', '2h'])).trim();
  return writeTokenKubeconfig(target, token, join(home, `${target}-${account}.kubeconfig`));
}

async function helmOk(target: PlaneName, args: string[]): Promise<string> {
  const result = await helm(home, ['--kubeconfig', plane(target).kubeconfigPath, ...args]);
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** The restricted namespace both charts install into. */
async function restrictedNamespace(target: PlaneName): Promise<void> {
  await kubectl(target, ['create', 'namespace', 'flotilla-system']);
  await kubectlOk(target, ['label', '--overwrite', 'namespace', 'flotilla-system', 'pod-security.kubernetes.io/enforce=restricted']);
}

const get = async (target: PlaneName, args: string[]): Promise<KubeObject | undefined> => {
  const result = await kubectl(target, ['get', ...args, '-o', 'json']);
  return result.code === 0 ? (JSON.parse(result.stdout) as KubeObject) : undefined;
};

beforeAll(async () => {
  await restrictedNamespace('hub');
  const tlsDir = join(home, 'dashboard-ca');
  mkdirSync(tlsDir);
  dashboardTLS = await createTestTLS(tlsDir);
  const secret = await kubectlOk('hub', [
    'create',
    'secret',
    'tls',
    dashboardTLSSecret,
    '-n',
    'flotilla-system',
    `--cert=${join(tlsDir, 'server.crt')}`,
    `--key=${join(tlsDir, 'server.key')}`,
    '--dry-run=client',
    '-o',
    'yaml',
  ]);
  await kubectlOk('hub', ['apply', '-f', '-'], secret);
  await helmOk('hub', [
    'upgrade',
    '--install',
    'flotilla-hub',
    join(repoRoot, 'charts', 'flotilla-hub'),
    '-n',
    'flotilla-system',
    '--set',
    'dashboard.enabled=true',
    '--set',
    `dashboard.tls.secretName=${dashboardTLSSecret}`,
    '--wait',
    '--timeout',
    '2m',
  ]);
  const hubConfig = await chartIdentity('hub', 'flotilla-hub');
  hubAsChart = kubeFromFile(hubConfig, undefined, { userAgent: 'charts-e2e' });
  programs.push(
    startProgram('charts-hub', [
      'hub',
      '--kubeconfig',
      hubConfig,
      '--health-address',
      '127.0.0.1:0',
      '--workspace-secret-reader',
      'flotilla-hub-workspace-secrets',
      '--identity',
      'charts-hub',
    ]),
  );
  await kubectlOk(
    'hub',
    ['apply', '-f', '-'],
    yaml.dump({ apiVersion: 'flotilla.dev/v1alpha1', kind: 'Fleet', metadata: { name: fleet }, spec: {} }),
  );
  for (const spoke of spokes) {
    const values = join(home, `${spoke.name}.values.yaml`);
    const joined = await runFlotilla([
      'join',
      spoke.name,
      '--fleet',
      fleet,
      '--label',
      'charts=yes',
      '--kubeconfig',
      plane('hub').kubeconfigPath,
      '--output-format',
      'helm-values',
      '-o',
      values,
    ]);
    if (joined.code !== 0) throw new Error(`join failed: ${joined.stderr}`);
    await restrictedNamespace(spoke.plane);
    await kubectl(spoke.plane, ['create', 'namespace', appNamespace]);
    await kubectlOk(spoke.plane, ['label', '--overwrite', 'namespace', appNamespace, 'team=apps']);
    // A fresh install, as on a new cluster: the chart makes the bootstrap Secret at install only.
    await helm(home, ['--kubeconfig', plane(spoke.plane).kubeconfigPath, 'uninstall', 'flotilla-agent', '-n', 'flotilla-system', '--wait']);
    await kubectl(spoke.plane, ['delete', 'secret', 'flotilla-agent-bootstrap', '-n', 'flotilla-system', '--ignore-not-found']);
    await helmOk(spoke.plane, [
      'install',
      'flotilla-agent',
      join(repoRoot, 'charts', 'flotilla-agent'),
      '-n',
      'flotilla-system',
      '-f',
      values,
      ...spoke.values,
      '--wait',
      '--timeout',
      '2m',
    ]);
    const spokeConfig = await chartIdentity(spoke.plane, 'flotilla-agent');
    programs.push(
      startProgram(`charts-agent-${spoke.name}`, [
        'agent',
        '--kubeconfig',
        spokeConfig,
        '--heartbeat-interval',
        '2s',
        '--identity',
        spoke.name,
        '--health-address',
        '127.0.0.1:0',
      ]),
    );
  }
}, 300_000);

afterAll(async () => {
  await stopAll();
  hubAsChart?.close();
});

describe('the charts on real apiservers', () => {
  it('pass helm lint', async () => {
    for (const chart of ['flotilla-hub', 'flotilla-agent']) {
      const linted = await helm(home, ['lint', join(repoRoot, 'charts', chart), '--namespace', 'flotilla-system']);
      expect([linted.code, linted.stdout]).toEqual([0, expect.stringContaining('0 chart(s) failed')]);
    }
  });

  it.each<[string, PlaneName, string[], string[]]>([
    ['flotilla-hub', 'hub', ['--set', 'replicaCount=0'], ["- at '/replicaCount': minimum: got 0, want 1"]],
    [
      'flotilla-agent',
      'spoke-1',
      ['--set', 'rbac.mode=wide', '--set-json', 'rbac.manage=[{"apiGroups":[""]}]'],
      ["- at '/rbac/mode': value must be one of 'broad', 'narrow'", "- at '/rbac/manage/0': missing property 'resources'"],
    ],
  ])(
    'refuse a wrong value at helm install with the field and the reason (%s values.schema.json)',
    async (chart, target, values, messages) => {
      const release = uniqueName('wrong-values');
      const installed = await helm(home, [
        '--kubeconfig',
        plane(target).kubeconfigPath,
        'install',
        release,
        join(repoRoot, 'charts', chart),
        '-n',
        'flotilla-system',
        ...values,
      ]);
      expect(installed.code).not.toBe(0);
      for (const message of messages) expect(installed.stderr).toContain(message);
      // Refused before anything was made: no release to clean up.
      expect((await helm(home, ['--kubeconfig', plane(target).kubeconfigPath, 'status', release, '-n', 'flotilla-system'])).code).not.toBe(
        0,
      );
    },
  );

  it('run their Pods under the restricted Pod Security profile (admitted by the apiserver, run by kwok)', async () => {
    for (const target of ['hub', 'spoke-1', 'spoke-2'] as PlaneName[]) {
      const pods = JSON.parse(await kubectlOk(target, ['get', 'pods', '-n', 'flotilla-system', '-o', 'json'])) as { items: KubeObject[] };
      expect(pods.items.length).toBeGreaterThan(0);
    }
  });

  it('are accepted by the apiserver as rendered (kubectl apply --dry-run=server)', async () => {
    const renders: [string, PlaneName, string[]][] = [
      ['flotilla-hub', 'hub', ['--set', 'metrics.serviceMonitor.enabled=false']],
      ['flotilla-agent', 'spoke-1', []],
      ['flotilla-agent', 'spoke-2', spokes[1]?.values ?? []],
    ];
    for (const [chart, target, values] of renders) {
      const rendered = await helm(home, ['template', chart, join(repoRoot, 'charts', chart), '-n', 'flotilla-system', ...values]);
      expect(rendered.stderr).toBe('');
      const applied = await kubectl(
        target,
        ['apply', '--server-side', '--force-conflicts', '--field-manager', 'charts-e2e-dry-run', '--dry-run=server', '-f', '-'],
        rendered.stdout,
      );
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
    }
  });
});

describe("the hub operator and agents with the charts' own identities", () => {
  const configName = 'app-config';
  it('join both spokes: each Ready with a heartbeat', async () => {
    for (const spoke of spokes) {
      await eventually(
        async () => {
          const member = await get('hub', ['membercluster', spoke.name]);
          const ready = ((member?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).find(
            (c) => c.type === 'Ready',
          );
          expect(ready?.status).toBe('True');
        },
        { timeoutMs: 90_000 },
      );
    }
  });

  it('roll a GlobalService out to both spokes; the narrow agent reports each manifest outside its RBAC and applies the rest', async () => {
    await kubectlOk(
      'hub',
      ['apply', '-f', '-'],
      yaml.dump({
        apiVersion: 'flotilla.dev/v1alpha1',
        kind: 'GlobalService',
        metadata: { name: 'app', namespace: workspace },
        spec: {
          placement: { clusterSelector: { matchLabels: { charts: 'yes' } } },
          source: {
            manifests: [
              { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: configName, namespace: appNamespace }, data: { greeting: 'hello' } },
              {
                apiVersion: 'v1',
                kind: 'ConfigMap',
                metadata: { name: `${configName}-outside`, namespace: 'default' },
                data: { greeting: 'not here' },
              },
              // A kind rbac.manage does not name at all: the narrow agent may not even list it.
              { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `${configName}-reader`, namespace: appNamespace } },
            ],
          },
        },
      }),
    );
    for (const spoke of spokes) {
      await eventually(
        async () => {
          expect(await get(spoke.plane, ['configmap', configName, '-n', appNamespace])).toBeDefined();
        },
        {
          timeoutMs: 90_000,
        },
      );
    }
    await eventually(
      async () => {
        expect(await get('spoke-1', ['configmap', `${configName}-outside`, '-n', 'default'])).toBeDefined();
        expect(await get('spoke-1', ['serviceaccount', `${configName}-reader`, '-n', appNamespace])).toBeDefined();
      },
      {
        timeoutMs: 60_000,
      },
    );
    const narrow = spokes[1]?.name ?? '';
    await eventually(
      async () => {
        const work = await get('hub', ['work', 'gs-app', '-n', `flotilla-member-${narrow}`]);
        const results = (work?.status as WorkStatus | undefined)?.manifests;
        const outcome = (name: string): Pick<ManifestStatus, 'applied' | 'message'> | undefined => {
          const result = results?.find((r) => r.name === name);
          return result && { applied: result.applied, message: result.message };
        };
        expect([outcome(configName), outcome(`${configName}-outside`), outcome(`${configName}-reader`)]).toEqual([
          expect.objectContaining({ applied: true }),
          { applied: false, message: expect.stringContaining("not allowed by the agent's RBAC on this cluster") },
          { applied: false, message: expect.stringMatching(/not allowed by the agent's RBAC.*cannot list resource "serviceaccounts"/) },
        ]);
      },
      { timeoutMs: 60_000 },
    );
    expect(await get('spoke-2', ['configmap', `${configName}-outside`, '-n', 'default'])).toBeUndefined();
    expect(await get('spoke-2', ['serviceaccount', `${configName}-reader`, '-n', appNamespace])).toBeUndefined();
  });

  it("queue the agents' Work status reports in the hub chart's own API priority level", async () => {
    await eventually(
      async () => {
        const flowSchema = await get('hub', ['flowschema', agentStatusPriorityName]);
        const conditions = (flowSchema?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions;
        expect(conditions?.find((c) => c.type === 'Dangling')?.status).toBe('False');
      },
      { timeoutMs: 30_000 },
    );
    // The rollout above made both agents report status: the apiserver counts what each level dispatched.
    const metrics = await kubectlOk('hub', ['get', '--raw', '/metrics']);
    const dispatched = metrics
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('apiserver_flowcontrol_dispatched_requests_total{') &&
          line.includes(`flow_schema="${agentStatusPriorityName}"`) &&
          line.includes(`priority_level="${agentStatusPriorityName}"`),
      )
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    expect(dispatched).toBeGreaterThanOrEqual(spokes.length);
  });

  it('correct drift on both spokes', async () => {
    for (const spoke of spokes) {
      await kubectlOk(spoke.plane, ['delete', 'configmap', configName, '-n', appNamespace]);
      await eventually(
        async () => {
          expect(await get(spoke.plane, ['configmap', configName, '-n', appNamespace])).toBeDefined();
        },
        {
          timeoutMs: 60_000,
        },
      );
    }
  });

  it('stamp a PolicyBundle into the selected namespace on both spokes', async () => {
    await kubectlOk(
      'hub',
      ['apply', '-f', '-'],
      yaml.dump({
        apiVersion: 'flotilla.dev/v1alpha1',
        kind: 'PolicyBundle',
        metadata: { name: 'quota', namespace: workspace },
        spec: {
          mode: 'Enforce',
          placement: { clusterSelector: { matchLabels: { charts: 'yes' } } },
          namespaceSelector: { matchLabels: { team: 'apps' } },
          resourceQuotas: [{ name: 'team-quota', hard: { pods: '20' } }],
        },
      }),
    );
    for (const spoke of spokes) {
      await eventually(
        async () => {
          expect(await get(spoke.plane, ['resourcequota', 'team-quota', '-n', appNamespace])).toBeDefined();
        },
        {
          timeoutMs: 90_000,
        },
      );
    }
  });

  it('delete: the service and the policy leave both spokes; a member deleted is revoked', async () => {
    await kubectlOk('hub', ['delete', 'globalservice', 'app', '-n', workspace, '--wait=false']);
    await kubectlOk('hub', ['delete', 'policybundle', 'quota', '-n', workspace, '--wait=false']);
    for (const spoke of spokes) {
      await eventually(
        async () => {
          expect(await get(spoke.plane, ['configmap', configName, '-n', appNamespace])).toBeUndefined();
          expect(await get(spoke.plane, ['resourcequota', 'team-quota', '-n', appNamespace])).toBeUndefined();
        },
        { timeoutMs: 90_000 },
      );
    }
    const first = spokes[0]?.name ?? '';
    await kubectlOk('hub', ['delete', 'membercluster', first, '--wait=false']);
    await eventually(
      async () => {
        expect(await get('hub', ['namespace', `flotilla-member-${first}`])).toBeUndefined();
      },
      {
        timeoutMs: 90_000,
      },
    );
  });
});

describe("what the hub chart's identity is refused", () => {
  const status = (promise: Promise<unknown>): Promise<string> =>
    promise.then(
      () => 'allowed',
      (error: unknown) => String((error as { apiMessage?: string }).apiMessage ?? error),
    );

  it('reads no Secret outside fleet workspaces, and reads them in its workspace', async () => {
    expect(await status((hubAsChart as Kube).list({ apiVersion: 'v1', kind: 'Secret' }, { namespace: 'kube-system' }))).toContain(
      'forbidden',
    );
    expect(await status((hubAsChart as Kube).get({ apiVersion: 'v1', kind: 'Secret' }, 'any', 'default'))).toContain('forbidden');
    await eventually(
      async () => {
        expect(await status((hubAsChart as Kube).get({ apiVersion: 'v1', kind: 'Secret' }, 'absent', workspace))).toContain('not found');
      },
      { timeoutMs: 30_000 },
    );
  });

  it('creates no Pod', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'x', namespace: workspace },
      spec: { containers: [{ name: 'x', image: 'x' }] },
    };
    expect(await status((hubAsChart as Kube).create(pod))).toContain('forbidden');
  });

  it('grants no RBAC beyond what it gives agents: escalation and binding outside the bound are refused', async () => {
    const secretsRule = [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }];
    const member = `flotilla-member-${spokes[1]?.name ?? ''}`;
    // A Role of another name is checked by RBAC itself: the hub cannot grant what it does not hold.
    expect(
      await status(
        (hubAsChart as Kube).create({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'more', namespace: member },
          rules: secretsRule,
        }),
      ),
    ).toContain('is attempting to grant RBAC permissions not currently held');
    // The agent's Role (escalate by name) may hold only an agent's rules, only in a member namespace.
    expect(
      await status(
        (hubAsChart as Kube).create({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'flotilla-agent', namespace: 'default' },
          rules: [],
        }),
      ),
    ).toContain('only in a member namespace');
    expect(
      await status(
        (hubAsChart as Kube).apply(
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'Role',
            metadata: { name: 'flotilla-agent', namespace: member },
            rules: secretsRule,
          },
          { fieldManager: 'charts-e2e', force: true },
        ),
      ),
    ).toContain('granting only');
    // The Secret reader binds only in workspaces, only to the hub itself.
    const binding = (namespace: string, kind: string) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind,
      metadata: { name: 'steal', ...(namespace ? { namespace } : {}) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flotilla-hub-workspace-secrets' },
      subjects: [{ kind: 'ServiceAccount', name: 'flotilla-hub', namespace: 'flotilla-system' }],
    });
    expect(await status((hubAsChart as Kube).create(binding('kube-system', 'RoleBinding')))).toContain('only in a fleet workspace');
    expect(await status((hubAsChart as Kube).create(binding('', 'ClusterRoleBinding')))).toContain('only in a fleet workspace');
    expect(
      await status(
        (hubAsChart as Kube).create({
          ...binding(workspace, 'RoleBinding'),
          subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: workspace }],
        }),
      ),
    ).toContain('only to itself');
  });
});

describe("the hub chart's dashboard, run as its Pod runs it", () => {
  const fleets = { a: uniqueName('dash-a'), b: uniqueName('dash-b') };
  const workspaceOf = (fleet: string): string => `fleet-${fleet}`;
  // Different counts per fleet, so a count that leaked across fleets shows.
  const clusters = { a: 3, b: 2 };
  const services = { a: ['one'], b: ['one', 'two'] };
  const members: Record<'a' | 'b', string[]> = { a: [], b: [] };
  const viewers = { a: '', b: '' };
  let url = '';
  let dashboardAsChart: Kube | undefined;
  let admin: Kube | undefined;
  const asViewer = <T>(path: string, token: string): Promise<T> => viewerJson<T>(`${url}${path}`, { token, ca: dashboardTLS.caPEM });

  /**
   * The arguments of the chart's dashboard container, for this host: the same flags, with the
   * loopback address and any free port instead of the Pod's, and the TLS Secret's files where the
   * Pod mounts them.
   */
  async function podArguments(): Promise<string[]> {
    const deployment = JSON.parse(
      await kubectlOk('hub', ['get', 'deployment', 'flotilla-dashboard', '-n', 'flotilla-system', '-o', 'json']),
    ) as {
      spec: {
        template: {
          spec: {
            serviceAccountName: string;
            containers: { args: string[]; volumeMounts?: { name: string; mountPath: string }[] }[];
            volumes?: { name: string; secret?: { secretName: string } }[];
          };
        };
      };
    };
    const pod = deployment.spec.template.spec;
    expect(pod.serviceAccountName).toBe(dashboardRoleName);
    const [container] = pod.containers;
    const mount = container?.volumeMounts?.[0];
    const secretName = pod.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName;
    expect([container?.args[0], secretName]).toEqual(['dashboard', dashboardTLSSecret]);
    const mounted = join(home, 'dashboard-tls');
    mkdirSync(mounted, { recursive: true });
    const secret = JSON.parse(await kubectlOk('hub', ['get', 'secret', dashboardTLSSecret, '-n', 'flotilla-system', '-o', 'json'])) as {
      data: Record<string, string>;
    };
    for (const [file, content] of Object.entries(secret.data))
      writeFileSync(join(mounted, file), Buffer.from(content, 'base64'), { mode: 0o600 });
    const local: Record<string, string> = { '--address': '127.0.0.1', '--port': '0' };
    return (container?.args ?? []).slice(1).map((arg, index, args) => {
      const flag = args[index - 1] ?? '';
      if (flag in local) return local[flag] ?? arg;
      return mount !== undefined && arg.startsWith(`${mount.mountPath}/`) ? join(mounted, arg.slice(mount.mountPath.length + 1)) : arg;
    });
  }

  beforeAll(async () => {
    admin = kubeFromFile(plane('hub').kubeconfigPath, undefined, { userAgent: 'charts-e2e' });
    for (const key of ['a', 'b'] as const) {
      await admin.create({ apiVersion, kind: 'Fleet', metadata: { name: fleets[key] }, spec: {} });
      // The hub operator, with its chart's identity, makes the workspace the viewers' Roles live in.
      await eventually(
        async () => {
          expect(await get('hub', ['namespace', workspaceOf(fleets[key])])).toBeDefined();
        },
        { timeoutMs: 60_000 },
      );
      members[key] = await createSimulatedMembers(admin, fleets[key], clusters[key], fleets[key], { dashboard: key });
      for (const name of services[key])
        await admin.create({
          apiVersion,
          kind: 'GlobalService',
          metadata: { name, namespace: workspaceOf(fleets[key]) },
          spec: {
            placement: { clusterSelector: { matchLabels: { nowhere: 'true' } } },
            source: { manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } }] },
          },
        });
      viewers[key] = await viewerToken(`viewer-${fleets[key]}`, [workspaceOf(fleets[key])]);
    }
    const config = await chartIdentity('hub', dashboardRoleName);
    dashboardAsChart = kubeFromFile(config, undefined, { userAgent: 'charts-e2e' });
    [, url] = await startDashboard('charts-dashboard', config, await podArguments());
  }, 180_000);

  afterAll(async () => {
    for (const key of ['a', 'b'] as const) {
      for (const name of members[key]) await kubectl('hub', ['delete', 'membercluster', name, '--wait=false']);
      await kubectl('hub', ['delete', 'fleet', fleets[key], '--wait=false']);
    }
    dashboardAsChart?.close();
    admin?.close();
  });

  it('serves HTTPS with the certificate of the TLS Secret its values name', async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    // Trusted only through the test's CA: the served certificate is the Secret's.
    expect((await viewerGet(`${url}readyz`, { ca: dashboardTLS.caPEM })).status).toBe(200);
    await expect(viewerGet(`${url}readyz`)).rejects.toThrow(/self[- ]signed|unable to verify|local issuer/);
    const page = await viewerGet(url, { token: viewers.a, ca: dashboardTLS.caPEM });
    expect([page.status, page.body]).toEqual([200, expect.stringContaining('<script type="module" src="/app.js">')]);
    expect((await viewerGet(`${url}app.js`, { token: viewers.a, ca: dashboardTLS.caPEM })).status).toBe(200);
  });

  it("shows each viewer its own fleet only: clusters, services and counts, none of the other's", async () => {
    for (const [mine, theirs] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      const token = viewers[mine];
      const overview = await asViewer<Overview>('api/overview', token);
      expect([overview.fleets, overview.clusters.total, overview.services.total]).toEqual([
        [fleets[mine]],
        clusters[mine],
        services[mine].length,
      ]);
      const table = await asViewer<ClusterPage>('api/clusters?limit=500&sort=name', token);
      expect([table.total, table.rows.map((r) => r.name)]).toEqual([clusters[mine], [...members[mine]].sort()]);
      const shown = await asViewer<ServiceView[]>('api/services', token);
      expect(shown.map((s) => `${s.fleet}/${s.name}`).sort()).toEqual(services[mine].map((name) => `${fleets[mine]}/${name}`));
      expect(await asViewer<string[]>('api/fleets', token)).toEqual([fleets[mine]]);
      // Asked for by name, the other's fleet and clusters are answered as ones that do not exist.
      const filtered = await asViewer<Overview>(`api/overview?fleet=${fleets[theirs]}`, token);
      expect([filtered.fleets, filtered.clusters.total, filtered.services.total]).toEqual([[], 0, 0]);
      const theirCluster = await viewerGet(`${url}api/clusters/${members[theirs][0] ?? ''}`, { token, ca: dashboardTLS.caPEM });
      expect(theirCluster.status).toBe(404);
    }
  });

  it('answers 401 without a token, with a token the apiserver does not accept, and with identity headers alone', async () => {
    const ca = dashboardTLS.caPEM;
    for (const path of ['', 'api/overview', 'api/events']) expect((await viewerGet(`${url}${path}`, { ca })).status).toBe(401);
    expect((await viewerGet(`${url}api/overview`, { ca, token: 'not-a-token' })).status).toBe(401);
    // A real ServiceAccount token stops being one when its ServiceAccount is deleted.
    const revoked = uniqueName('viewer-gone');
    const token = await viewerToken(revoked, []);
    await kubectlOk('hub', ['delete', 'serviceaccount', revoked, '-n', 'default']);
    await eventually(
      async () => {
        expect((await viewerGet(`${url}api/overview`, { ca, token })).status).toBe(401);
      },
      { timeoutMs: 30_000 },
    );
    const proxied = await viewerGet(`${url}api/overview`, { ca, headers: { 'X-Forwarded-User': 'alice' } });
    expect([proxied.status, proxied.body]).toEqual([401, expect.stringContaining('carry no credentials')]);
  });

  it("refuses the dashboard's own identity any Secret and every write (the apiserver's 403)", async () => {
    const kube = dashboardAsChart as Kube;
    const forbidden = (promise: Promise<unknown>): Promise<boolean> =>
      promise.then(
        () => false,
        (error: unknown) => isForbidden(error),
      );
    expect(await forbidden(kube.get({ apiVersion: 'v1', kind: 'Secret' }, dashboardTLSSecret, 'flotilla-system'))).toBe(true);
    expect(await forbidden(kube.list({ apiVersion: 'v1', kind: 'Secret' }))).toBe(true);
    expect(await forbidden(kube.create({ apiVersion, kind: 'Fleet', metadata: { name: uniqueName('not-mine') }, spec: {} }))).toBe(true);
    expect(await forbidden(kube.delete({ apiVersion, kind: 'MemberCluster' }, members.a[0] ?? ''))).toBe(true);
    expect(
      await forbidden(
        kube.patch(
          { apiVersion, kind: 'GlobalService' },
          'one',
          workspaceOf(fleets.a),
          { metadata: { labels: { x: 'y' } } },
          { type: 'merge' },
        ),
      ),
    ).toBe(true);
    // Every write verb on every kind it watches, and every read of Secrets, asked of the apiserver
    // with its own token; list and watch, which it needs, as the control.
    const may = async (verb: string, resource: string, resourceGroup: string): Promise<boolean> => {
      const review = await kube.create({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        metadata: {},
        spec: { resourceAttributes: { verb, resource, group: resourceGroup } },
      });
      return (review.status as { allowed?: boolean } | undefined)?.allowed === true;
    };
    const kinds = ['fleets', 'memberclusters', 'globalservices', 'policybundles', 'works', 'clustergroups'];
    const answers: string[] = [];
    for (const resource of kinds) {
      for (const verb of ['create', 'update', 'patch', 'delete', 'deletecollection', 'get', 'list', 'watch'])
        if (await may(verb, resource, group)) answers.push(`${verb} ${resource}`);
      for (const verb of ['update', 'patch']) if (await may(verb, `${resource}/status`, group)) answers.push(`${verb} ${resource}/status`);
    }
    for (const verb of ['get', 'list', 'watch']) if (await may(verb, 'secrets', '')) answers.push(`${verb} secrets`);
    expect(answers.sort()).toEqual(
      ['fleets', 'memberclusters', 'globalservices', 'policybundles', 'works']
        .flatMap((resource) => [`list ${resource}`, `watch ${resource}`])
        .sort(),
    );
  });
});
