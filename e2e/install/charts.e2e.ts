// The charts on real planes, and the least-privilege proof: `helm install` the hub chart on the hub
// and the agent chart on both spokes (kwok runs their Pods as fake Pods), then run the real hub
// operator and agents as processes with the tokens of the charts' own ServiceAccounts — never admin
// credentials — through membership, a GlobalService on both spokes, drift correction, a
// PolicyBundle and deletion. With the hub chart's identity, what it must not do is refused.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { eventually, kubectl, kubectlOk, plane, repoRoot, uniqueName, type PlaneName } from '../framework/index.js';
import { helm } from '../framework/tools.js';
import { runFlotilla, startProgram, stopAll, type Program } from '../membership/processes.js';
import type { ManifestStatus, WorkStatus } from '../../src/api/index.js';
import { kubeFromFile, type Kube, type KubeObject } from '../../src/runtime/index.js';

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

/** A kubeconfig for `plane` carrying a fresh TokenRequest token of flotilla-system/`account`: the chart's identity. */
async function chartIdentity(target: PlaneName, account: string): Promise<string> {
  const token = (await kubectlOk(target, ['create', 'token', account, '-n', 'flotilla-system', '--duration', '2h'])).trim();
  const config = yaml.load(await kubectlOk(target, ['config', 'view', '--raw', '-o', 'yaml'])) as {
    users: { user: Record<string, unknown> }[];
  };
  for (const user of config.users) user.user = { token };
  const path = join(home, `${target}-${account}.kubeconfig`);
  writeFileSync(path, yaml.dump(config), { mode: 0o600 });
  return path;
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
  await helmOk('hub', [
    'upgrade',
    '--install',
    'flotilla-hub',
    join(repoRoot, 'charts', 'flotilla-hub'),
    '-n',
    'flotilla-system',
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
