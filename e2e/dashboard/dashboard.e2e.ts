/// <reference lib="dom" />
// The dashboard in a real browser (Debian's chromium, driven by puppeteer-core) against the testenv
// hub: a fleet with the two real spokes (agents as processes) and 200 simulated clusters, and a
// second fleet of 20 simulated clusters. The overview counts what the hub holds; a Work turning
// Degraded on a spoke shows on the open page (the latency is measured and printed); the clusters
// table filters; the stage approval command shown is the one the hub's rollout reads (run as shown,
// it moves the rollout on); with --viewer-tokens two ServiceAccounts with different RBAC see
// different fleets and a request without a token gets 401. A screenshot of each page is saved.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import {
  apiVersion,
  conditionTypes,
  labels,
  memberNamespace,
  type GlobalService,
  type MemberCluster,
  type PolicyBundle,
} from '../../src/api/index.js';
import { parseQuantity } from '../../src/kube-semantics/quantity.js';
import { createInformer, findCondition, type KubeObject } from '../../src/runtime/index.js';
import { eventually, kubectlOk, uniqueName } from '../framework/index.js';
import { createSimulatedMembers, reportSimulatedFacts, type WorkObject } from '../globalservice/simulated.js';
import { fleetOnPlanes } from '../globalservice/fleet-on-planes.js';
import { runFlotilla, type Program } from '../membership/processes.js';
import { startDashboard, viewerToken, writeTokenKubeconfig } from './dashboard-program.js';

const chromium = process.env.FLOTILLA_CHROMIUM ?? '/usr/bin/chromium';
const artifacts = join(process.env.FLOTILLA_E2E_ARTIFACTS ?? join(tmpdir(), 'flotilla-e2e-artifacts'), 'dashboard');
const SIMULATED = 200;
const OTHER = 20;

const setup = fleetOnPlanes({
  prefix: 'dash',
  userAgent: 'dashboard-e2e',
  agentProcesses: true,
  spokes: [
    { plane: 'spoke-1', name: uniqueName('dash-s1'), labels: ['env=prod', 'tier=canary'] },
    { plane: 'spoke-2', name: uniqueName('dash-s2'), labels: ['env=prod'] },
  ],
});
const [canary, second] = setup.spokes as [(typeof setup.spokes)[0], (typeof setup.spokes)[0]];
const other = uniqueName('dash-other');
const otherWorkspace = `fleet-${other}`;
const simPrefix = uniqueName('dsim');
const ServiceType = { apiVersion, kind: 'GlobalService' } as const;
const secretValue = `never-on-the-page-${uniqueName('s')}`;
/** What two of the other fleet's simulated clusters report: 4 CPUs, 8 GiB; 3.5 and 7 GiB allocatable; 1 and 2 GiB requested. */
const reported = {
  capacity: { cpu: '4', memory: '8Gi' },
  allocatable: { cpu: '3500m', memory: '7Gi' },
  requested: { cpu: '1', memory: '2Gi' },
};

let browser: Browser;
let local: Program;
let localURL = '';
let tokens: Program;
let tokensURL = '';
/** A viewer of this suite's two fleets. */
let bothFleets = '';

/** A quantity as a number of its unit (cores, bytes); 0 when not reported. */
function quantity(text: string | undefined): number {
  const parsed = parseQuantity(text);
  return parsed === undefined ? 0 : Number(parsed.numerator) / Number(parsed.denominator);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** A viewer of the named fleets' workspaces only (its ServiceAccount's name unique to this run). */
const viewer = (account: string, workspaces: string[]): Promise<string> => viewerToken(`${account}-${simPrefix}`, workspaces);

async function openPage(url: string, token?: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  if (token !== undefined) await page.setExtraHTTPHeaders({ Authorization: `Bearer ${token}` });
  await page.goto(url);
  await page.waitForSelector('[data-testid=live][data-connected=true]');
  return page;
}

/** The text of a card's number, waited for until it reads `expected`. */
async function expectCard(page: Page, id: string, expected: number): Promise<void> {
  await page.waitForFunction(
    (selector, value) => document.querySelector(selector)?.textContent === String(value),
    { timeout: 60_000 },
    `[data-testid=${id}] .n`,
    expected,
  );
}

function service(name: string, namespace: string, spec: GlobalService['spec']): GlobalService & KubeObject {
  return { apiVersion, kind: 'GlobalService', metadata: { name, namespace }, spec };
}

const configMap = (name: string, data: Record<string, string>): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default' },
  data,
});

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  await setup.start();
  await setup.hub.create({ apiVersion, kind: 'Fleet', metadata: { name: other } });
  const simulated = await createSimulatedMembers(setup.hub, simPrefix, SIMULATED, setup.fleet, { sim: simPrefix, env: 'staging' });
  await reportSimulatedFacts(setup.hub, simulated.slice(0, 50), { kubernetesVersion: 'v1.31.2', apiVersions: ['v1'] });
  const others = await createSimulatedMembers(setup.hub, `${simPrefix}-o`, OTHER, other, { sim: simPrefix });
  // Two of the other fleet's clusters report their capacity (the rest report none): its sums are known.
  await reportSimulatedFacts(setup.hub, others.slice(0, 2), { kubernetesVersion: 'v1.30.5', apiVersions: ['v1'], resources: reported });
  // Two bundles on the real spokes: the Enforce one is applied (compliant); the Audit one writes
  // nothing, so its quota is missing on both (non-compliant, each cluster named).
  for (const [name, mode] of [
    ['dash-enforce', 'Enforce'],
    ['dash-audit', 'Audit'],
  ] as const)
    await setup.hub.create({
      apiVersion,
      kind: 'PolicyBundle',
      metadata: { name, namespace: setup.workspace },
      spec: {
        mode,
        placement: { clusterNames: [canary.name, second.name] },
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'default' } },
        resourceQuotas: [{ name, hard: { pods: '50' } }],
      },
    });
  // A Staged service: the canary stage waits for approval. It ships a Secret, whose value must
  // never reach the page.
  await setup.hub.create(
    service('web', setup.workspace, {
      placement: { clusterNames: [canary.name, second.name] },
      source: {
        manifests: [
          configMap('dash-web', { greeting: 'hello' }),
          { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dash-web', namespace: 'default' }, stringData: { password: secretValue } },
        ] as GlobalService['spec']['source']['manifests'],
      },
      rollout: { strategy: 'Staged', stages: [{ name: 'canary', clusterSelector: { matchLabels: { tier: 'canary' } }, approval: {} }] },
    }),
  );
  browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox'] });
  [local, localURL] = await startDashboard('dashboard-local', setup.hubConfig, ['--port', '0']);
  [tokens, tokensURL] = await startDashboard('dashboard-tokens', setup.hubConfig, [
    '--port',
    '0',
    '--viewer-tokens',
    '--address',
    '127.0.0.1',
  ]);
  bothFleets = await viewer('viewer-both', [setup.workspace, otherWorkspace]);
}, 300_000);

afterAll(async () => {
  await browser.close();
  await local.stop();
  await tokens.stop();
  await setup.hub.delete({ apiVersion, kind: 'Fleet' }, other).catch(() => undefined);
  for (let i = 0; i < OTHER; i++)
    await setup.hub.delete({ apiVersion, kind: 'MemberCluster' }, `${simPrefix}-o-${i}`).catch(() => undefined);
  for (let i = 0; i < SIMULATED; i++)
    await setup.hub.delete({ apiVersion, kind: 'MemberCluster' }, `${simPrefix}-${i}`).catch(() => undefined);
  await setup.stop();
}, 300_000);

describe('the dashboard', () => {
  // Counted as a viewer of this suite's two fleets: the hub is shared with the other suites' fleets.
  it('counts every cluster of the fleets by state, the Kubernetes versions and the services', async () => {
    const page = await openPage(tokensURL, bothFleets);
    await expectCard(page, 'clusters-total', 2 + SIMULATED + OTHER);
    await expectCard(page, 'clusters-Ready', 2);
    await expectCard(page, 'clusters-Joining', SIMULATED + OTHER);
    await expectCard(page, 'services-total', 1);
    const overview = (await (await fetch(`${tokensURL}api/overview`, { headers: { Authorization: `Bearer ${bothFleets}` } })).json()) as {
      kubernetesVersions: { version: string; count: number }[];
    };
    expect(overview.kubernetesVersions).toContainEqual({ version: 'v1.31.2', count: 50 });
    await screenshot(page, 'overview');
    await page.close();
  }, 120_000);

  it('filters the clusters table by name, label selector and state, server-side', async () => {
    const page = await openPage(`${tokensURL}#/clusters`, bothFleets);
    const total = (text: string) =>
      page.waitForFunction(
        (t) => document.querySelector('[data-testid=cluster-total]')?.textContent.startsWith(t) === true,
        { timeout: 30_000 },
        text,
      );
    await total(`${2 + SIMULATED + OTHER} clusters`);
    await screenshot(page, 'clusters');
    await page.type('[data-testid=selector]', 'env=prod,tier in (canary)');
    await page.keyboard.press('Enter');
    await total('1 clusters');
    expect(await page.$$eval('[data-testid=cluster-table] tbody tr', (rows) => rows.map((r) => r.getAttribute('data-cluster')))).toEqual([
      canary.name,
    ]);
    // Cleared as a user clears it (select all, delete): input events the page hears. Setting the
    // element's value behind the page's back was undone by the next live re-render.
    await page.click('[data-testid=selector]', { count: 3 });
    await page.keyboard.press('Backspace');
    await page.type('[data-testid=selector]', 'env=staging');
    await page.keyboard.press('Enter');
    await total(`${SIMULATED} clusters`);
    await page.type('[data-testid=search]', `${simPrefix}-17`);
    // -17 and -170 … -179.
    await total('11 clusters');
    await page.click('[data-testid=state-Ready]');
    await total('0 clusters');
    await page.close();
  }, 120_000);

  it('shows the stage approval command the hub reads: run as shown, it approves the stage', async () => {
    const page = await openPage(`${localURL}#/services`);
    const command = await page.waitForSelector('[data-testid=approve-command]', { timeout: 90_000 });
    const text = (await command?.evaluate((el) => el.textContent)) ?? '';
    const waiting = await setup.hub.get<GlobalService & KubeObject>(ServiceType, 'web', setup.workspace);
    expect(waiting.status?.rollout?.phase).toBe('AwaitingApproval');
    expect(text).toBe(
      `kubectl annotate globalservice web -n ${setup.workspace} --overwrite flotilla.dev/approved-stage=canary@${waiting.status?.revision ?? ''}`,
    );
    await screenshot(page, 'services');
    const args = text.split(' ');
    expect(args[0]).toBe('kubectl');
    await kubectlOk('hub', args.slice(1));
    await eventually(
      async () => {
        const s = await setup.hub.get<GlobalService & KubeObject>(ServiceType, 'web', setup.workspace);
        expect(s.status?.clusters?.updated).toBe(2);
      },
      { timeoutMs: 90_000 },
    );
    await page.waitForFunction(() => document.querySelector('[data-testid=approve-command]') === null, { timeout: 30_000 });
    await page.close();
  }, 240_000);

  it('shows a Work turning Degraded on the open cluster page, and never a Secret', async () => {
    const page = await openPage(`${localURL}#/clusters/${second.name}`);
    await page.waitForSelector('[data-testid=work]', { timeout: 60_000 });
    expect(await page.content()).not.toContain(secretValue);
    const detail = await (await fetch(`${localURL}api/clusters/${second.name}`)).text();
    expect(detail).toContain('dash-web');
    expect(detail).not.toContain(secretValue);
    // An object the Work may not adopt: its apply is a Conflict, and the Work Degraded.
    await second.kube.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dash-clash', namespace: 'default' },
      data: { mine: 'yes' },
    });
    let degradedSeenAt = 0;
    const controller = new AbortController();
    const works = createInformer<WorkObject>({
      kube: setup.hub,
      type: { apiVersion, kind: 'Work' },
      namespace: memberNamespace(second.name),
      labelSelector: `${labels.sourceName}=clash`,
    });
    works.addHandler({
      onUpdate: (_, work) => {
        if (degradedSeenAt === 0 && findCondition(work.status?.conditions, conditionTypes.Degraded)?.status === 'True')
          degradedSeenAt = Date.now();
      },
    });
    const watching = works.run(controller.signal);
    await works.waitForSync();
    const shownAt = page.waitForFunction(() => (document.querySelector('[data-testid=work][data-degraded=true]') ? Date.now() : false), {
      polling: 'mutation',
      timeout: 120_000,
    });
    await setup.hub.create(
      service('clash', setup.workspace, {
        placement: { clusterNames: [second.name] },
        adoption: 'Never',
        source: { manifests: [configMap('dash-clash', { theirs: 'yes' })] as GlobalService['spec']['source']['manifests'] },
      }),
    );
    const shown = Number(await (await shownAt).jsonValue());
    await eventually(
      () => {
        expect(degradedSeenAt).toBeGreaterThan(0);
      },
      { timeoutMs: 30_000 },
    );
    controller.abort(new Error('done'));
    await watching;
    process.stdout.write(
      `${JSON.stringify({ measure: 'dashboard degraded latency', fromHubWatchToPageMs: shown - degradedSeenAt, note: 'hub watch event seen by the test → page DOM' })}\n`,
    );
    expect(await page.$eval('[data-testid=work][data-degraded=true] h3', (el) => el.textContent)).toContain('Conflict');
    await screenshot(page, 'cluster');
    const overview = await openPage(localURL);
    await expectCard(overview, 'clusters-Degraded', 1);
    await overview.close();
    await page.close();
  }, 240_000);

  it('narrows every page to the fleet chosen in the picker, the choice in the URL; the API takes ?fleet= as well', async () => {
    const page = await openPage(tokensURL, bothFleets);
    await expectCard(page, 'clusters-total', 2 + SIMULATED + OTHER);
    await page.waitForSelector(`[data-testid=fleet-picker] option[value="${other}"]`);
    await page.select('[data-testid=fleet-picker]', other);
    await page.waitForFunction((fleet) => location.hash === `#/?fleet=${fleet}`, { timeout: 10_000 }, other);
    await expectCard(page, 'clusters-total', OTHER);
    await expectCard(page, 'services-total', 0);
    // Every tab keeps the choice.
    await page.click('header a[href^="#/clusters"]');
    await page.waitForFunction(
      (t) => document.querySelector('[data-testid=cluster-total]')?.textContent.startsWith(t) === true,
      { timeout: 30_000 },
      `${OTHER} clusters`,
    );
    expect(await page.evaluate(() => location.hash)).toBe(`#/clusters?fleet=${other}`);
    expect(
      new Set(await page.$$eval('[data-testid=cluster-table] tbody tr td:nth-child(2)', (cells) => cells.map((c) => c.textContent))),
    ).toEqual(new Set([other]));
    await page.click('header a[href^="#/services"]');
    await page.waitForSelector('[data-testid=services]');
    expect(await page.$$('[data-service]')).toHaveLength(0);
    await screenshot(page, 'fleet-picker');
    await page.close();
    // The URL alone chooses the fleet: a link opened afresh.
    const linked = await openPage(`${tokensURL}#/services?fleet=${setup.fleet}`, bothFleets);
    await linked.waitForSelector(`[data-service="${setup.workspace}/web"]`);
    expect(await linked.$eval('[data-testid=fleet-picker]', (el) => (el as HTMLSelectElement).value)).toBe(setup.fleet);
    await linked.close();
    const asBoth = async (query: string): Promise<{ fleets: string[]; clusters: { total: number } }> =>
      (await (await fetch(`${tokensURL}api/overview${query}`, { headers: { Authorization: `Bearer ${bothFleets}` } })).json()) as {
        fleets: string[];
        clusters: { total: number };
      };
    expect(await asBoth(`?fleet=${other}`)).toMatchObject({ fleets: [other], clusters: { total: OTHER } });
    expect(await asBoth(`?fleet=${setup.fleet}`)).toMatchObject({ fleets: [setup.fleet], clusters: { total: 2 + SIMULATED } });
    expect(await asBoth('?fleet=no-such-fleet')).toMatchObject({ fleets: [], clusters: { total: 0 } });
  }, 120_000);

  it("shows each cluster's capacity and each fleet's sums as the clusters reported them", async () => {
    const page = await openPage(`${tokensURL}#/capacity`, bothFleets);
    const rowOf = (fleet: string) =>
      page.$$eval(
        '[data-testid=fleet-capacity] tbody tr',
        (rows, name) => rows.map((r) => Array.from(r.querySelectorAll('td'), (c) => c.textContent)).find((cells) => cells[0] === name),
        fleet,
      );
    // Two clusters of 4 CPUs (3.5 allocatable, 1 requested) and 8 GiB (7, 2): the others report nothing.
    await eventually(
      async () => {
        expect(await rowOf(other)).toEqual([other, '8.0', '7.0', '2.0', '16.0', '14.0', '4.0']);
      },
      {
        timeoutMs: 30_000,
      },
    );
    // This fleet's sums: what its real spokes' agents reported, read back from the hub.
    const sum = (
      members: MemberCluster[],
      resource: 'cpu' | 'memory',
      field: 'capacity' | 'allocatable' | 'requested',
      unit: number,
    ): string => (members.reduce((total, m) => total + quantity(m.status?.resources?.[field]?.[resource]), 0) / unit).toFixed(1);
    await eventually(
      async () => {
        const members = (await setup.hub.list<MemberCluster & KubeObject>({ apiVersion, kind: 'MemberCluster' })).items.filter(
          (m) => m.spec.fleet === setup.fleet,
        );
        expect(await rowOf(setup.fleet)).toEqual([
          setup.fleet,
          ...(['capacity', 'allocatable', 'requested'] as const).map((field) => sum(members, 'cpu', field, 1)),
          ...(['capacity', 'allocatable', 'requested'] as const).map((field) => sum(members, 'memory', field, 2 ** 30)),
        ]);
      },
      { timeoutMs: 30_000 },
    );
    await screenshot(page, 'capacity');
    // One cluster: requested over allocatable, 1/3.5 CPU and 2/7 GiB.
    await page.goto(`${tokensURL}#/clusters/${simPrefix}-o-0`);
    await page.waitForSelector('[data-testid=cluster]');
    expect(await page.$eval('[data-testid=cluster]', (el) => el.textContent)).toMatch(/CPU requested\s*29%\s*· memory requested\s*29%/);
    await page.close();
  }, 120_000);

  it('shows each policy bundle as Audit or Enforce, with its compliance per cluster', async () => {
    const page = await openPage(`${tokensURL}#/policies?fleet=${setup.fleet}`, bothFleets);
    const row = (name: string) =>
      page.$eval(`[data-policy="${setup.workspace}/${name}"]`, (r) => Array.from(r.querySelectorAll('td'), (c) => c.textContent));
    await page.waitForSelector(`[data-policy="${setup.workspace}/dash-audit"]`, { timeout: 60_000 });
    await eventually(
      async () => {
        expect((await row('dash-enforce')).slice(0, 4)).toEqual([`${setup.workspace}/dash-enforce`, 'Enforce', '2/2', '0']);
        const audit = await row('dash-audit');
        expect(audit.slice(0, 5)).toEqual([`${setup.workspace}/dash-audit`, 'Audit', '0/2', '2', 'ResourceQuota: 2']);
        // The worst violations name each cluster and what is missing there.
        for (const cluster of [canary.name, second.name]) expect(audit[5]).toContain(`${cluster} ResourceQuota dash-audit`);
      },
      { timeoutMs: 90_000 },
    );
    // A row per cluster: both spokes violate the Audit bundle (its quota is not in place) and hold the Enforce one.
    const complianceRow = (cluster: string) =>
      page.$eval(`[data-compliance="${cluster}"]`, (r) => [
        r.querySelector('td:nth-child(3)')?.textContent ?? '',
        ...Array.from(r.querySelectorAll('[data-bundle]'), (b) => b.textContent),
      ]);
    await page.waitForSelector(`[data-compliance="${second.name}"]`);
    // The violation reads as the agent reported it, the same words as in the bundle's status.
    const audit = await setup.hub.get<PolicyBundle & KubeObject>({ apiVersion, kind: 'PolicyBundle' }, 'dash-audit', setup.workspace);
    for (const cluster of [canary.name, second.name]) {
      const reported = audit.status?.worst?.find((v) => v.cluster === cluster)?.message;
      expect(reported).toBeDefined();
      await eventually(
        async () => {
          expect(await complianceRow(cluster)).toEqual([
            'non-compliant',
            `non-compliant ${setup.workspace}/dash-audit (Audit); ResourceQuota dash-audit: ${reported ?? ''}`,
            `compliant ${setup.workspace}/dash-enforce (Enforce)`,
          ]);
        },
        { timeoutMs: 30_000 },
      );
    }
    await screenshot(page, 'policies');
    const shownClusters = () => page.$$eval('[data-compliance]', (rows) => rows.map((r) => r.getAttribute('data-compliance')));
    await page.type('[data-testid=compliance-search]', canary.name);
    await eventually(async () => {
      expect(await shownClusters()).toEqual([canary.name]);
    });
    await page.click('[data-testid=compliance-compliant]');
    await eventually(async () => {
      expect(await shownClusters()).toEqual([]);
    });
    await page.close();
  }, 120_000);

  it('refuses to start with a namespace-limited kubeconfig, naming the kinds it cannot list', async () => {
    const limited = await viewer('viewer-limited', [setup.workspace]);
    const kubeconfig = await writeTokenKubeconfig('hub', limited, join(artifacts, 'limited.kubeconfig'));
    const started = await runFlotilla(['dashboard', '--kubeconfig', kubeconfig, '--port', '0'], { killAfterMs: 60_000 });
    expect([started.stillRunning, started.code]).toEqual([false, 1]);
    for (const kind of ['fleets', 'memberclusters', 'globalservices', 'policybundles', 'works'])
      expect(started.stderr).toContain(`list and watch ${kind}.flotilla.dev`);
    expect(started.stdout).not.toContain('serving');
  }, 90_000);

  it('with viewer tokens: each ServiceAccount sees only the fleets its RBAC lets it list; no token gets 401', async () => {
    const a = await viewer('viewer-a', [setup.workspace]);
    const b = await viewer('viewer-b', [otherWorkspace]);
    const fleetsOf = async (t: string): Promise<string[]> =>
      ((await (await fetch(`${tokensURL}api/overview`, { headers: { Authorization: `Bearer ${t}` } })).json()) as { fleets: string[] })
        .fleets;
    expect(await fleetsOf(a)).toEqual([setup.fleet]);
    expect(await fleetsOf(b)).toEqual([other]);
    expect((await fetch(`${tokensURL}api/overview`)).status).toBe(401);
    expect((await fetch(tokensURL)).status).toBe(401);
    expect((await fetch(`${tokensURL}api/overview`, { headers: { Authorization: 'Bearer not-a-token' } })).status).toBe(401);
    // A cluster of another's fleet is answered as one that does not exist.
    expect((await fetch(`${tokensURL}api/clusters/${canary.name}`, { headers: { Authorization: `Bearer ${b}` } })).status).toBe(404);
    const pageA = await openPage(tokensURL, a);
    await expectCard(pageA, 'clusters-total', 2 + SIMULATED);
    await screenshot(pageA, 'viewer-a');
    const pageB = await openPage(tokensURL, b);
    await expectCard(pageB, 'clusters-total', OTHER);
    await expectCard(pageB, 'services-total', 0);
    await screenshot(pageB, 'viewer-b');
    await pageA.close();
    await pageB.close();
    process.stdout.write(`dashboard screenshots: ${artifacts}\n`);
  }, 120_000);
});
