// The served APIs as a cluster fact, on real planes: an agent runs as a process of the built CLI
// for a spoke joined with `flotilla join`, and reports what the spoke's discovery serves into its
// MemberCluster's status.apiVersions. A CRD installed on the spoke appears there, group-version and
// group/version/Kind, and so in the capabilities the hub hands helm; deleted, it disappears. The
// agent learns of both from its metadata watches of CRDs and APIServices (its resync is 10 minutes
// away), and while nothing changes it asks discovery nothing and writes nothing.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FleetType, MemberClusterType, type MemberCluster } from '../../src/api/index.js';
import { kubeFromFile, sleep, type Kube, type KubeObject } from '../../src/runtime/index.js';
import { helmCapabilities } from '../../src/work/capabilities.js';
import { createWidgetCRD, eventually, kubectlOk, plane, setAPIServer, uniqueName } from '../framework/index.js';
import { runFlotilla, startProgram, stopAll, type Program } from './processes.js';

const hubConfig = plane('hub').kubeconfigPath;
const hub: Kube = kubeFromFile(hubConfig, undefined, { userAgent: 'served-apis-e2e' });
const fleet = uniqueName('apis');
const cluster = uniqueName('lab');
let agent: Program | undefined;

type Member = MemberCluster & KubeObject;
const apiVersions = async (): Promise<string[]> => (await hub.get<Member>(MemberClusterType, cluster)).status?.apiVersions ?? [];

/** The agent's /metrics, at the health address it logged (port 0 picked a free one). */
async function agentMetrics(): Promise<string> {
  const lines = readFileSync(agent?.logFile ?? '', 'utf8')
    .split('\n')
    .filter((line) => line.includes('serving /healthz'));
  const port = Number(/"port":(\d+)/.exec(lines.at(-1) ?? '')?.[1]);
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** Requests the agent made that the apiserver answered 304 Not Modified: only discovery asks that found nothing new. */
const notModified = (metrics: string): number =>
  Number(/^flotilla_kube_requests_total\{verb="GET",code="304"\} (\S+)$/m.exec(metrics)?.[1] ?? 0);

/** When the agent last changed the MemberCluster's status: its managedFields entry's time. */
async function agentStatusWrite(): Promise<string | undefined> {
  const live = await hub.get<Member>(MemberClusterType, cluster);
  const entries = (live.metadata.managedFields ?? []) as { manager?: string; subresource?: string; time?: string }[];
  return entries.find((entry) => entry.manager === 'flotilla-agent' && entry.subresource === 'status')?.time;
}

beforeAll(async () => {
  const install = await runFlotilla(['install', '--kubeconfig', hubConfig]);
  if (install.code !== 0) throw new Error(`flotilla install failed: ${install.stderr}`);
  startProgram(`hub-${fleet}`, ['hub', '--kubeconfig', hubConfig, '--health-address', '127.0.0.1:0']);
  await hub.create({ ...FleetType, metadata: { name: fleet } });
  const joined = await runFlotilla(['join', cluster, '--fleet', fleet, '--kubeconfig', hubConfig]);
  if (joined.code !== 0) throw new Error(`flotilla join failed: ${joined.stderr}`);
  await kubectlOk('spoke-2', ['apply', '-f', '-'], joined.stdout);
  agent = startProgram(`agent-${cluster}`, [
    'agent',
    '--kubeconfig',
    plane('spoke-2').kubeconfigPath,
    '--identity',
    cluster,
    '--health-address',
    '127.0.0.1:0',
  ]);
}, 120_000);

afterAll(async () => {
  await stopAll();
  await hub.delete(MemberClusterType, cluster).catch(() => undefined);
  await hub.delete(FleetType, fleet).catch(() => undefined);
  hub.close();
}, 60_000);

describe('the served APIs of a member cluster', () => {
  it("are reported in helm's --api-versions form, the built-in ones from the start", async () => {
    const reported = await eventually(
      async () => {
        const list = await apiVersions();
        expect(list).toEqual(expect.arrayContaining(['v1', 'v1/ConfigMap', 'apps/v1', 'apps/v1/Deployment', 'apiextensions.k8s.io/v1']));
        return list;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(reported).toEqual([...reported].sort());
    expect(reported.some((entry) => entry.endsWith('/Scale') || entry.endsWith('/Eviction'))).toBe(false);
  }, 90_000);

  it('gain a CRD installed on the spoke, then lose it when it is deleted', async () => {
    const crd = await createWidgetCRD('spoke-2');
    const added = [crd.apiVersion, `${crd.apiVersion}/Widget`];
    try {
      await eventually(
        async () => {
          expect(await apiVersions()).toEqual(expect.arrayContaining(added));
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      // What the hub will hand `helm template` for this cluster.
      const capabilities = helmCapabilities((await hub.get<Member>(MemberClusterType, cluster)).status);
      expect(capabilities).toEqual({ kubeVersion: 'v1.36.3', apiVersions: expect.arrayContaining(added) as unknown });
    } finally {
      await crd.cleanup();
    }
    await eventually(
      async () => {
        const list = await apiVersions();
        expect(list.filter((entry) => entry.startsWith(crd.group))).toEqual([]);
        expect(list).toContain('apps/v1/Deployment');
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }, 150_000);

  it('are neither asked for nor written while nothing changes', async () => {
    // Past the second look the agent takes after a change (served-apis.ts FOLLOW_UP_MS, 10 s).
    await sleep(12_000);
    const asked = notModified(await agentMetrics());
    // The counter counts: the looks after the CRD's deletion found discovery unchanged at least once.
    expect(asked).toBeGreaterThan(0);
    const lastWrite = await agentStatusWrite();
    expect(lastWrite).toBeDefined();
    await sleep(20_000);
    expect(notModified(await agentMetrics())).toBe(asked);
    expect(await agentStatusWrite()).toBe(lastWrite);
  }, 60_000);

  it("are asked for again once the spoke's apiserver is back from a restart, which may have been an upgrade", async () => {
    const asked = notModified(await agentMetrics());
    await setAPIServer('spoke-2', 'stop');
    try {
      await sleep(2000);
    } finally {
      await setAPIServer('spoke-2', 'start');
    }
    // The watches failed and came back; the next ask is not the resync's, 10 minutes away.
    await eventually(
      async () => {
        expect(notModified(await agentMetrics())).toBeGreaterThan(asked);
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  }, 150_000);
});
