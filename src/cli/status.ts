// `flotilla status`: the fleet at a glance — each fleet's summary line, then its clusters with
// Ready, version, nodes, requests against allocatable, and the last heartbeat (read from the
// heartbeat Lease itself, the exact record); then each GlobalService's rollout: clusters targeted,
// updated, Available and failed, and why each failed service fails. `-o json` for scripts.
import type { Command } from 'commander';
import {
  conditionTypes,
  FleetType,
  GlobalServiceType,
  heartbeatLease,
  MemberClusterType,
  memberNamespace,
  PolicyBundleType,
  reasons,
  workspaceNamespace,
  type Fleet,
  type GlobalService,
  type MemberCluster,
  type PolicyBundle,
} from '../api/index.js';
import { findCondition, kubeFromDefault, kubeFromFile, LeaseType, type KubeObject, type Lease } from '../runtime/index.js';

export interface ClusterRow {
  name: string;
  fleet: string;
  ready: string;
  reason: string;
  kubernetesVersion: string;
  nodes: number | null;
  cpu: { requested: string; allocatable: string; capacity: string };
  memory: { requested: string; allocatable: string; capacity: string };
  lastHeartbeat: string | null;
}

export interface FleetRow {
  name: string;
  ready: string;
  clusters: number;
  readyClusters: number;
}

export interface StatusView {
  fleets: FleetRow[];
  clusters: ClusterRow[];
}

/** What `status` shows, from the hub's objects (pure; `fleet` narrows to one fleet). */
export function statusView(
  fleets: readonly Fleet[],
  members: readonly MemberCluster[],
  leases: readonly Lease[],
  fleet?: string,
): StatusView {
  const renewed = new Map(leases.map((l) => [l.metadata.namespace ?? '', l.spec?.renewTime ?? null]));
  const clusters = members
    .filter((m) => fleet === undefined || m.spec.fleet === fleet)
    .map((m): ClusterRow => {
      const s = m.status;
      const ready = findCondition(s?.conditions, conditionTypes.Ready);
      const r = s?.resources;
      return {
        name: m.metadata.name ?? '',
        fleet: m.spec.fleet,
        ready: ready?.status ?? 'Unknown',
        reason: ready?.reason ?? reasons.memberCluster.AwaitingAgent,
        kubernetesVersion: s?.kubernetesVersion ?? '',
        nodes: s?.nodeCount ?? null,
        cpu: { requested: r?.requested?.cpu ?? '', allocatable: r?.allocatable?.cpu ?? '', capacity: r?.capacity?.cpu ?? '' },
        memory: { requested: r?.requested?.memory ?? '', allocatable: r?.allocatable?.memory ?? '', capacity: r?.capacity?.memory ?? '' },
        lastHeartbeat: renewed.get(memberNamespace(m.metadata.name ?? '')) ?? s?.lastHeartbeatTime ?? null,
      };
    })
    .sort((a, b) => a.fleet.localeCompare(b.fleet) || a.name.localeCompare(b.name));
  return {
    fleets: fleets
      .filter((f) => fleet === undefined || f.metadata.name === fleet)
      .map((f) => ({
        name: f.metadata.name ?? '',
        ready: findCondition(f.status?.conditions, conditionTypes.Ready)?.status ?? 'Unknown',
        clusters: f.status?.clusters?.total ?? 0,
        readyClusters: f.status?.clusters?.ready ?? 0,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    clusters,
  };
}

function age(since: string | null, now: number): string {
  if (since === null) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(since)) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

/** Aligned columns, as kubectl prints them. */
export function renderStatus(view: StatusView, now: number = Date.now()): string {
  const lines = view.fleets.map((f) => `fleet ${f.name}: Ready=${f.ready}, ${f.readyClusters}/${f.clusters} clusters ready`);
  const rows = [['CLUSTER', 'FLEET', 'READY', 'VERSION', 'NODES', 'CPU REQ/ALLOC', 'MEMORY REQ/ALLOC', 'HEARTBEAT']];
  for (const c of view.clusters) {
    rows.push([
      c.name,
      c.fleet,
      c.ready === 'True' ? 'True' : `${c.ready} (${c.reason})`,
      c.kubernetesVersion || '-',
      c.nodes === null ? '-' : String(c.nodes),
      c.cpu.allocatable ? `${c.cpu.requested}/${c.cpu.allocatable}` : '-',
      c.memory.allocatable ? `${c.memory.requested}/${c.memory.allocatable}` : '-',
      age(c.lastHeartbeat, now),
    ]);
  }
  return [...lines, ...(lines.length > 0 ? [''] : []), ...table(rows)].join('\n') + '\n';
}

/** Rows as aligned columns (the first row is the header). */
function table(rows: readonly string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('   '));
}

// --- services -------------------------------------------------------------------------------------

export interface ServiceRow {
  namespace: string;
  name: string;
  ready: string;
  reason: string;
  revision: string;
  phase: string;
  targeted: number;
  updated: number;
  available: number;
  failed: number;
  /**
   * Why a failed service (Ready False) is failing: its Ready message, which for a halted rollout
   * names the first clusters, their failing manifests and the spoke apiserver's messages; else ''.
   */
  cause: string;
}

/** The objects in `fleet`'s workspace namespace; all of them when no fleet is named. */
function inFleetWorkspace<T extends { metadata: { namespace?: string } }>(
  objects: readonly T[],
  fleets: readonly Fleet[],
  fleet?: string,
): readonly T[] {
  if (fleet === undefined) return objects;
  const workspace = workspaceNamespace(fleets.find((f) => f.metadata.name === fleet) ?? { metadata: { name: fleet } });
  return objects.filter((o) => o.metadata.namespace === workspace);
}

/** Each GlobalService's rollout at a glance (`fleet` narrows to that fleet's workspace). */
export function serviceRows(services: readonly GlobalService[], fleets: readonly Fleet[], fleet?: string): ServiceRow[] {
  return inFleetWorkspace(services, fleets, fleet)
    .map((s): ServiceRow => {
      const ready = findCondition(s.status?.conditions, conditionTypes.Ready);
      const clusters = s.status?.clusters;
      return {
        namespace: s.metadata.namespace ?? '',
        name: s.metadata.name ?? '',
        ready: ready?.status ?? 'Unknown',
        reason: ready?.reason ?? 'AwaitingHub',
        revision: s.status?.revision ?? '',
        phase: s.status?.rollout?.phase ?? '',
        targeted: clusters?.targeted ?? 0,
        updated: clusters?.updated ?? 0,
        available: clusters?.available ?? 0,
        failed: clusters?.failed ?? 0,
        cause: ready?.status === 'False' ? ready.message : '',
      };
    })
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export function renderServices(rows: readonly ServiceRow[]): string {
  if (rows.length === 0) return '';
  const cells = [['SERVICE', 'READY', 'TARGETED', 'UPDATED', 'AVAILABLE', 'FAILED', 'ROLLOUT', 'REVISION']];
  for (const r of rows) {
    cells.push([
      `${r.namespace}/${r.name}`,
      r.ready === 'True' ? 'True' : `${r.ready} (${r.reason})`,
      String(r.targeted),
      String(r.updated),
      String(r.available),
      String(r.failed),
      r.phase || '-',
      r.revision || '-',
    ]);
  }
  // Causes are long sentences: under the table, one per failed service, where a column would not hold them.
  const causes = rows.filter((r) => r.cause !== '').map((r) => `${r.namespace}/${r.name}: ${r.cause}`);
  return `\n${[...table(cells), ...(causes.length > 0 ? ['', ...causes] : [])].join('\n')}\n`;
}

// --- policies -------------------------------------------------------------------------------------

export interface PolicyRow {
  namespace: string;
  name: string;
  mode: string;
  /** Compliant, NonCompliant, or Unknown until every targeted cluster has reported. */
  compliance: string;
  targeted: number;
  compliant: number;
  nonCompliant: number;
  unknown: number;
  /** The most frequent violation, for a first look. */
  worst: string;
}

/** Each PolicyBundle's compliance at a glance (`fleet` narrows to that fleet's workspace). */
export function policyRows(bundles: readonly PolicyBundle[], fleets: readonly Fleet[], fleet?: string): PolicyRow[] {
  return inFleetWorkspace(bundles, fleets, fleet)
    .map((b): PolicyRow => {
      const clusters = b.status?.clusters;
      const nonCompliant = clusters?.nonCompliant ?? 0;
      const unknown = clusters?.unknown ?? 0;
      const first = b.status?.worst?.[0];
      return {
        namespace: b.metadata.namespace ?? '',
        name: b.metadata.name ?? '',
        mode: b.spec.mode ?? 'Enforce',
        compliance: nonCompliant > 0 ? 'NonCompliant' : unknown > 0 || clusters === undefined ? 'Unknown' : 'Compliant',
        targeted: clusters?.targeted ?? 0,
        compliant: clusters?.compliant ?? 0,
        nonCompliant,
        unknown,
        worst: first ? `${first.cluster}: ${first.kind} ${first.namespace ? `${first.namespace}/` : ''}${first.policy ?? ''}` : '',
      };
    })
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export function renderPolicies(rows: readonly PolicyRow[]): string {
  if (rows.length === 0) return '';
  const cells = [['POLICY', 'MODE', 'COMPLIANCE', 'TARGETED', 'COMPLIANT', 'NONCOMPLIANT', 'WORST']];
  for (const r of rows) {
    cells.push([
      `${r.namespace}/${r.name}`,
      r.mode,
      r.compliance,
      String(r.targeted),
      String(r.compliant),
      String(r.nonCompliant),
      r.worst || '-',
    ]);
  }
  return `\n${table(cells).join('\n')}\n`;
}

interface StatusFlags {
  fleet?: string;
  output: string;
  kubeconfig?: string;
  context?: string;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show the fleet at a glance: clusters, readiness, versions, resources, heartbeats.')
    .option('--fleet <name>', 'only this fleet')
    .option('-o, --output <format>', 'table or json', 'table')
    .option('--kubeconfig <path>', 'kubeconfig of the hub (default: $KUBECONFIG, ~/.kube/config or in-cluster)')
    .option('--context <name>', 'context of --kubeconfig to use')
    .action(async (flags: StatusFlags) => {
      if (flags.output !== 'table' && flags.output !== 'json') throw new Error(`--output must be table or json, not ${flags.output}`);
      const kube = flags.kubeconfig === undefined ? kubeFromDefault() : kubeFromFile(flags.kubeconfig, flags.context);
      try {
        const [fleets, members, leases, services, bundles] = await Promise.all([
          kube.list<Fleet & KubeObject>(FleetType),
          kube.list<MemberCluster & KubeObject>(MemberClusterType),
          kube.list<Lease>(LeaseType, { fieldSelector: `metadata.name=${heartbeatLease}` }),
          kube.list<GlobalService & KubeObject>(GlobalServiceType),
          kube.list<PolicyBundle & KubeObject>(PolicyBundleType),
        ]);
        const view = statusView(fleets.items, members.items, leases.items, flags.fleet);
        const serviceView = serviceRows(services.items, fleets.items, flags.fleet);
        const policyView = policyRows(bundles.items, fleets.items, flags.fleet);
        process.stdout.write(
          flags.output === 'json'
            ? `${JSON.stringify({ ...view, services: serviceView, policies: policyView }, null, 2)}\n`
            : `${renderStatus(view)}${renderServices(serviceView)}${renderPolicies(policyView)}`,
        );
      } finally {
        kube.close();
      }
    });
}
