// What each dashboard page shows, computed from the hub's objects as the read-model caches them.
// Pure: plain objects in, the JSON a page renders out. The server narrows the objects to the fleets
// a viewer may see before calling these, so nothing here knows about identities. Nothing from a
// Work's spec (its manifests, which may hold Secrets) or any other credential is ever copied out:
// only status, names, labels and counts.
import {
  annotations,
  conditionTypes,
  labels,
  type GlobalService,
  type MemberCluster,
  type PolicyBundle,
  type RolloutStage,
  type Work,
} from '../api/index.js';
import { memberState } from '../hub/fleet/status.js';
import { clusterCompliance, type ClusterState as ComplianceState } from '../hub/policybundle/compliance.js';
import { workSourceIndex, type WorkObject } from '../hub/works/claims.js';
import { setHead } from '../hub/works/writer.js';
import { parseQuantity } from '../kube-semantics/quantity.js';
import { parseSelector, selectorMatches } from '../kube-semantics/selector.js';
import { findCondition, type Condition } from '../runtime/index.js';

/** A cluster's state as the dashboard groups them, worst first. */
export const clusterStates = ['Unknown', 'Degraded', 'NotReady', 'Joining', 'Paused', 'Ready'] as const;
export type ClusterState = (typeof clusterStates)[number];

/** The objects the views read, already narrowed to what the viewer may see. */
export interface FleetObjects {
  fleets: readonly string[];
  members: readonly MemberCluster[];
  services: readonly GlobalService[];
  policies: readonly PolicyBundle[];
  /** The Works of one cluster, by its name. */
  worksOf(cluster: string): readonly Work[];
}

/**
 * The fleets a page shows: every fleet the viewer may see, or, when the page asks for one (the
 * `fleet` filter; '' is none), that fleet only — nothing when the viewer may not see it, exactly as
 * for a fleet that does not exist.
 */
export function shownFleets(visible: ReadonlySet<string>, fleet: string): Set<string> {
  if (fleet === '') return new Set(visible);
  return visible.has(fleet) ? new Set([fleet]) : new Set();
}

function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * Unknown (heartbeats stopped) outranks Degraded (a Work on it is Degraded, read from the Works
 * themselves so it shows as soon as the agent reports), then NotReady, Joining; a paused cluster
 * that is otherwise fine shows as Paused.
 */
export function clusterState(member: MemberCluster, works: readonly Work[]): ClusterState {
  const state = memberState(member);
  if (state === 'lost') return 'Unknown';
  if (state !== 'joining' && works.some((w) => isTrue(w.status?.conditions, conditionTypes.Degraded))) return 'Degraded';
  if (state === 'notReady') return 'NotReady';
  if (state === 'joining') return 'Joining';
  return member.spec.paused === true ? 'Paused' : 'Ready';
}

/** A condition's reason and message, for "why". */
export interface Why {
  reason: string;
  message: string;
}

function why(condition: Condition | undefined, fallback: string): Why {
  return { reason: condition?.reason ?? fallback, message: condition?.message ?? '' };
}

/** Why a cluster is not Ready: its first Degraded Work's reason, else its own Ready (or Joined) condition. */
function clusterWhy(member: MemberCluster, works: readonly Work[], state: ClusterState): Why {
  const degraded = works.find((w) => isTrue(w.status?.conditions, conditionTypes.Degraded));
  if (state === 'Degraded' && degraded) {
    const condition = findCondition(degraded.status?.conditions, conditionTypes.Degraded);
    return { reason: condition?.reason ?? 'Degraded', message: `Work ${degraded.metadata.name ?? ''}: ${condition?.message ?? ''}` };
  }
  const type = state === 'Joining' ? conditionTypes.Joined : conditionTypes.Ready;
  return why(findCondition(member.status?.conditions, type), 'AwaitingAgent');
}

// ---------------------------------------------------------------------------------------------
// Capacity

/** Requested over allocatable, 0..∞ (over 1 is over-committed); null when either is unknown. */
export function utilisation(requested: string | undefined, allocatable: string | undefined): number | null {
  const r = parseQuantity(requested);
  const a = parseQuantity(allocatable);
  if (r === undefined || a === undefined || a.numerator === 0n) return null;
  return Number(r.numerator * a.denominator) / Number(r.denominator * a.numerator);
}

function quantityNumber(text: string | undefined): number {
  const q = parseQuantity(text);
  return q === undefined ? 0 : Number(q.numerator) / Number(q.denominator);
}

// ---------------------------------------------------------------------------------------------
// Clusters table

export interface ClusterRow {
  name: string;
  fleet: string;
  state: ClusterState;
  reason: string;
  message: string;
  kubernetesVersion: string;
  nodes: number | null;
  labels: Record<string, string>;
  cpu: number | null;
  memory: number | null;
  works: number;
  lastHeartbeat: string | null;
}

export function clusterRow(member: MemberCluster, works: readonly Work[]): ClusterRow {
  const state = clusterState(member, works);
  const resources = member.status?.resources;
  return {
    name: member.metadata.name ?? '',
    fleet: member.spec.fleet,
    state,
    ...(state === 'Ready' || state === 'Paused' ? { reason: '', message: '' } : clusterWhy(member, works, state)),
    kubernetesVersion: member.status?.kubernetesVersion ?? '',
    nodes: member.status?.nodeCount ?? null,
    labels: member.metadata.labels ?? {},
    cpu: utilisation(resources?.requested?.cpu, resources?.allocatable?.cpu),
    memory: utilisation(resources?.requested?.memory, resources?.allocatable?.memory),
    works: works.length,
    lastHeartbeat: member.status?.lastHeartbeatTime ?? null,
  };
}

export const sortableColumns = ['name', 'fleet', 'state', 'kubernetesVersion', 'nodes', 'cpu', 'memory', 'works', 'lastHeartbeat'] as const;
export type SortColumn = (typeof sortableColumns)[number];

export interface ClusterQuery {
  /** A label selector in kubectl's `-l` syntax. */
  selector: string;
  /** Only these states; empty: all. */
  states: readonly ClusterState[];
  /** A substring of the name (case-insensitive). */
  search: string;
  sort: SortColumn;
  descending: boolean;
  offset: number;
  limit: number;
}

export const MAX_PAGE = 500;

/** A query from the page's URL parameters; throws with the reason on a bad one (the server answers 400). */
export function parseClusterQuery(params: URLSearchParams): ClusterQuery {
  const sort = params.get('sort') ?? 'state';
  if (!(sortableColumns as readonly string[]).includes(sort))
    throw new Error(`sort must be one of ${sortableColumns.join(', ')}, not ${sort}`);
  const states = (params.get('state') ?? '').split(',').filter((s) => s !== '');
  for (const state of states)
    if (!(clusterStates as readonly string[]).includes(state))
      throw new Error(`state must be among ${clusterStates.join(', ')}, not ${state}`);
  const selector = params.get('selector') ?? '';
  parseSelector(selector);
  return {
    selector,
    states: states as ClusterState[],
    search: params.get('search') ?? '',
    sort: sort as SortColumn,
    descending: params.get('order') === 'desc',
    ...parsePaging(params),
  };
}

/** `offset` and `limit` (at most MAX_PAGE) of a table's query; throws naming the parameter on a bad one. */
function parsePaging(params: URLSearchParams): { offset: number; limit: number } {
  const number = (name: string, fallback: number): number => {
    const value = Number(params.get(name) ?? fallback);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, not ${params.get(name) ?? ''}`);
    return value;
  };
  return { offset: number('offset', 0), limit: Math.min(MAX_PAGE, number('limit', 50)) };
}

/** Rows in `direction` by `column`; unknown values (no report yet) last, whichever the direction. */
function compareRows(column: SortColumn, direction: 1 | -1): (a: ClusterRow, b: ClusterRow) => number {
  if (column === 'state') return (a, b) => direction * (clusterStates.indexOf(a.state) - clusterStates.indexOf(b.state));
  return (a, b) => {
    const x = a[column];
    const y = b[column];
    if (x === y) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return direction * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
  };
}

export interface ClusterPage {
  /** Clusters matching the query, before paging. */
  total: number;
  offset: number;
  rows: ClusterRow[];
}

/** One page of the clusters table: filtered, sorted (ties by name), paged. */
export function clusterPage(rows: readonly ClusterRow[], query: ClusterQuery): ClusterPage {
  const selector = parseSelector(query.selector);
  const search = query.search.toLowerCase();
  const states = new Set(query.states);
  const matching = rows.filter(
    (row) =>
      (states.size === 0 || states.has(row.state)) &&
      (search === '' || row.name.toLowerCase().includes(search)) &&
      selectorMatches(selector, row.labels),
  );
  const compare = compareRows(query.sort, query.descending ? -1 : 1);
  matching.sort((a, b) => compare(a, b) || a.name.localeCompare(b.name));
  return { total: matching.length, offset: query.offset, rows: matching.slice(query.offset, query.offset + query.limit) };
}

// ---------------------------------------------------------------------------------------------
// One cluster

export interface ManifestView {
  kind: string;
  namespace: string;
  name: string;
  applied: boolean;
  health: string;
  drifted: boolean;
  driftedFields: string[];
  message: string;
}

export interface WorkView {
  name: string;
  source: string;
  revision: string;
  appliedRevision: string;
  conditions: { type: string; status: string; reason: string; message: string }[];
  manifests: ManifestView[];
}

export interface ClusterDetail {
  row: ClusterRow;
  agentVersion: string;
  heartbeat: string | null;
  conditions: WorkView['conditions'];
  capacity: CapacityRow;
  works: WorkView[];
}

function conditionViews(conditions: readonly Condition[] | undefined): WorkView['conditions'] {
  return (conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
}

/** A Work's status, per manifest; its spec (the manifests themselves) is never included. */
export function workView(work: Work): WorkView {
  const source = work.metadata.labels;
  return {
    name: work.metadata.name ?? '',
    source: `${source?.[labels.sourceKind] ?? work.spec.source.kind}/${source?.[labels.sourceNamespace] ?? ''}/${source?.[labels.sourceName] ?? work.spec.source.name}`,
    revision: work.spec.source.revision,
    appliedRevision: work.status?.appliedRevision ?? '',
    conditions: conditionViews(work.status?.conditions),
    manifests: (work.status?.manifests ?? []).map((m) => ({
      kind: m.kind,
      namespace: m.namespace ?? '',
      name: m.name,
      applied: m.applied === true,
      health: m.health ?? 'Unknown',
      drifted: m.drifted === true,
      driftedFields: m.driftedFields ?? [],
      message: m.message ?? '',
    })),
  };
}

export function clusterDetail(member: MemberCluster, works: readonly Work[]): ClusterDetail {
  return {
    row: clusterRow(member, works),
    agentVersion: member.status?.agentVersion ?? '',
    heartbeat: member.status?.lastHeartbeatTime ?? null,
    conditions: conditionViews(member.status?.conditions),
    capacity: capacityRow(member),
    works: [...works].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '')).map(workView),
  };
}

// ---------------------------------------------------------------------------------------------
// Services

export type StageState = 'Done' | 'Current' | 'AwaitingApproval' | 'Pending';

export interface StageView {
  name: string;
  state: StageState;
  /** While the stage waits for approval: the command that approves it. */
  approveCommand?: string;
}

export interface ServiceView {
  namespace: string;
  name: string;
  fleet: string;
  revision: string;
  strategy: string;
  phase: string;
  message: string;
  source: { url: string; revision: string } | null;
  clusters: { targeted: number; updated: number; available: number; failed: number; drifted: number };
  stages: StageView[];
  attention: (Why & { cluster: string })[];
}

/**
 * The `kubectl annotate` that approves `stage` of `revision`: the annotation the hub's rollout
 * reads (src/hub/globalservice/rollout/stages.ts approvedThrough), as STAGE@REVISION.
 */
export function approveCommand(service: GlobalService, stage: string, revision: string): string {
  return `kubectl annotate globalservice ${service.metadata.name ?? ''} -n ${service.metadata.namespace ?? ''} --overwrite ${annotations.approvedStage}=${stage}@${revision}`;
}

function stageViews(service: GlobalService): StageView[] {
  const stages: readonly RolloutStage[] = service.spec.rollout?.stages ?? [];
  const rollout = service.status?.rollout;
  const revision = service.status?.revision ?? '';
  const current = rollout?.phase === 'Complete' ? stages.length : (rollout?.stageIndex ?? 0);
  return stages.map((stage, index): StageView => {
    if (index < current) return { name: stage.name, state: 'Done' };
    if (index > current) return { name: stage.name, state: 'Pending' };
    // The hub reports AwaitingApproval on the stage that is done and whose gate needs the approval.
    if (rollout?.phase === 'AwaitingApproval')
      return { name: stage.name, state: 'AwaitingApproval', approveCommand: approveCommand(service, stage.name, revision) };
    return { name: stage.name, state: 'Current' };
  });
}

const noClusters: ServiceView['clusters'] = { targeted: 0, updated: 0, available: 0, failed: 0, drifted: 0 };

export function serviceView(service: GlobalService, fleetOfNamespace: (namespace: string) => string): ServiceView {
  const status = service.status;
  const counts = status?.clusters;
  const ready = findCondition(status?.conditions, conditionTypes.Ready);
  return {
    namespace: service.metadata.namespace ?? '',
    name: service.metadata.name ?? '',
    fleet: fleetOfNamespace(service.metadata.namespace ?? ''),
    revision: status?.revision ?? '',
    strategy: service.spec.rollout?.strategy ?? 'AllAtOnce',
    phase: status?.rollout?.phase ?? (ready?.status === 'True' ? 'Complete' : 'Pending'),
    message: status?.rollout?.message ?? ready?.message ?? '',
    source: status?.source?.url !== undefined ? { url: status.source.url, revision: status.source.revision ?? '' } : null,
    clusters: { ...noClusters, ...counts },
    stages: stageViews(service),
    attention: (status?.attention ?? []).map((a) => ({ cluster: a.cluster, reason: a.reason, message: a.message ?? '' })),
  };
}

// ---------------------------------------------------------------------------------------------
// Policies

export interface PolicyView {
  namespace: string;
  name: string;
  mode: string;
  targeted: number;
  compliant: number;
  nonCompliant: number;
  violationsByKind: { kind: string; count: number }[];
  worst: { cluster: string; kind: string; policy: string; message: string }[];
}

export function policyView(bundle: PolicyBundle): PolicyView {
  const status = bundle.status;
  return {
    namespace: bundle.metadata.namespace ?? '',
    name: bundle.metadata.name ?? '',
    mode: bundle.spec.mode ?? 'Enforce',
    targeted: status?.clusters?.targeted ?? 0,
    compliant: status?.clusters?.compliant ?? 0,
    nonCompliant: status?.clusters?.nonCompliant ?? 0,
    violationsByKind: (status?.violationsByKind ?? []).map((v) => ({ kind: v.kind, count: v.count })),
    worst: (status?.worst ?? []).map((v) => ({ cluster: v.cluster, kind: v.kind, policy: v.policy ?? '', message: v.message })),
  };
}

// ---------------------------------------------------------------------------------------------
// Policy compliance, a row per cluster

export type { ComplianceState };

/** Worst first, as the compliance table sorts. */
export const complianceStates: readonly ComplianceState[] = ['nonCompliant', 'unknown', 'compliant'];

/** At most this many violations are listed per bundle on one cluster's row; `more` counts the rest. */
export const MAX_ROW_VIOLATIONS = 5;

export interface BundleCompliance {
  /** `namespace/name` of the bundle. */
  bundle: string;
  mode: string;
  state: ComplianceState;
  violations: { kind: string; policy: string; count: number; message: string }[];
  more: number;
}

export interface ComplianceRow {
  cluster: string;
  fleet: string;
  /** The worst of its bundles' states. */
  state: ComplianceState;
  bundles: BundleCompliance[];
}

/**
 * One bundle on one cluster: what the agent last reported on the bundle's Work there (read as the
 * hub reads it, clusterCompliance), joined with what the bundle's status names for that cluster —
 * the hub alone sees a conflict with another source, and its status lists the worst MAX_WORST.
 */
function bundleCompliance(bundle: PolicyBundle, cluster: string, work: Work): BundleCompliance {
  const reported = clusterCompliance(cluster, work, []);
  const key = (v: { kind: string; policy?: string }): string => `${v.kind}/${v.policy ?? ''}`;
  const seen = new Set(reported.violations.map(key));
  const named = (bundle.status?.worst ?? []).filter((v) => v.cluster === cluster && !seen.has(key(v)));
  const violations = [...reported.violations, ...named].map((v) => ({
    kind: v.kind,
    policy: v.policy ?? '',
    count: v.count ?? 1,
    message: v.message,
  }));
  return {
    bundle: `${bundle.metadata.namespace ?? ''}/${bundle.metadata.name ?? ''}`,
    mode: bundle.spec.mode ?? 'Enforce',
    state: violations.length > 0 ? 'nonCompliant' : reported.state,
    violations: violations.slice(0, MAX_ROW_VIOLATIONS),
    more: Math.max(0, violations.length - MAX_ROW_VIOLATIONS),
  };
}

/** Every cluster a shown bundle has a Work on, with its compliance with each such bundle (bundles by name). */
export function complianceRows(objects: FleetObjects): ComplianceRow[] {
  // Keyed as the hub's Works cache indexes a Work's source (workSourceIndex): `PolicyBundle/namespace/name`.
  const bundles = new Map(objects.policies.map((b) => [`PolicyBundle/${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`, b]));
  const rows: ComplianceRow[] = [];
  for (const member of objects.members) {
    const cluster = member.metadata.name ?? '';
    const sets = new Map<string, Work[]>();
    for (const work of objects.worksOf(cluster)) {
      const source = workSourceIndex(work as WorkObject)[0];
      if (source === undefined || !bundles.has(source)) continue;
      const parts = sets.get(source);
      if (parts) parts.push(work);
      else sets.set(source, [work]);
    }
    const states: BundleCompliance[] = [];
    for (const [name, parts] of [...sets].sort(([a], [b]) => a.localeCompare(b))) {
      const bundle = bundles.get(name);
      const head = setHead(parts);
      if (bundle && head) states.push(bundleCompliance(bundle, cluster, head));
    }
    if (states.length === 0) continue;
    const state = complianceStates.find((s) => states.some((b) => b.state === s)) ?? 'unknown';
    rows.push({ cluster, fleet: member.spec.fleet, state, bundles: states });
  }
  return rows;
}

export interface ComplianceQuery {
  /** Only these states; empty: all. */
  states: readonly ComplianceState[];
  /** A substring of the cluster's name (case-insensitive). */
  search: string;
  offset: number;
  limit: number;
}

/** A compliance query from the page's URL parameters; throws with the reason on a bad one (the server answers 400). */
export function parseComplianceQuery(params: URLSearchParams): ComplianceQuery {
  const states = (params.get('state') ?? '').split(',').filter((s) => s !== '');
  for (const state of states)
    if (!(complianceStates as readonly string[]).includes(state))
      throw new Error(`state must be among ${complianceStates.join(', ')}, not ${state}`);
  return { states: states as ComplianceState[], search: params.get('search') ?? '', ...parsePaging(params) };
}

export interface CompliancePage {
  /** Rows matching the query, before paging. */
  total: number;
  offset: number;
  rows: ComplianceRow[];
}

/** One page of the compliance table: filtered, worst state first (ties by name), paged. */
export function compliancePage(rows: readonly ComplianceRow[], query: ComplianceQuery): CompliancePage {
  const search = query.search.toLowerCase();
  const states = new Set(query.states);
  const matching = rows.filter(
    (row) => (states.size === 0 || states.has(row.state)) && (search === '' || row.cluster.toLowerCase().includes(search)),
  );
  matching.sort((a, b) => complianceStates.indexOf(a.state) - complianceStates.indexOf(b.state) || a.cluster.localeCompare(b.cluster));
  return { total: matching.length, offset: query.offset, rows: matching.slice(query.offset, query.offset + query.limit) };
}

// ---------------------------------------------------------------------------------------------
// Capacity

export interface CapacityRow {
  name: string;
  fleet: string;
  cpu: { capacity: number; allocatable: number; requested: number };
  memory: { capacity: number; allocatable: number; requested: number };
}

export function capacityRow(member: MemberCluster): CapacityRow {
  const r = member.status?.resources;
  return {
    name: member.metadata.name ?? '',
    fleet: member.spec.fleet,
    cpu: {
      capacity: quantityNumber(r?.capacity?.cpu),
      allocatable: quantityNumber(r?.allocatable?.cpu),
      requested: quantityNumber(r?.requested?.cpu),
    },
    memory: {
      capacity: quantityNumber(r?.capacity?.memory),
      allocatable: quantityNumber(r?.allocatable?.memory),
      requested: quantityNumber(r?.requested?.memory),
    },
  };
}

/** Capacity summed per fleet (cores and bytes). */
export function fleetCapacity(rows: readonly CapacityRow[]): CapacityRow[] {
  const byFleet = new Map<string, CapacityRow>();
  for (const row of rows) {
    const sum = byFleet.get(row.fleet) ?? {
      name: row.fleet,
      fleet: row.fleet,
      cpu: { capacity: 0, allocatable: 0, requested: 0 },
      memory: { capacity: 0, allocatable: 0, requested: 0 },
    };
    for (const resource of ['cpu', 'memory'] as const)
      for (const field of ['capacity', 'allocatable', 'requested'] as const) sum[resource][field] += row[resource][field];
    byFleet.set(row.fleet, sum);
  }
  return [...byFleet.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------------------------------------
// Overview

export const MAX_ATTENTION = 20;

export interface Overview {
  fleets: string[];
  clusters: Record<ClusterState, number> & { total: number };
  kubernetesVersions: { version: string; count: number }[];
  services: Record<string, number> & { total: number };
  policies: { total: number; compliant: number; nonCompliant: number; audit: number; enforce: number };
  /** The clusters that need attention first (worst state first), at most MAX_ATTENTION. */
  clusterAttention: (Why & { cluster: string; state: ClusterState })[];
  /** Services halted, failing or stalled, at most MAX_ATTENTION. */
  serviceAttention: (Why & { namespace: string; name: string; phase: string })[];
}

function serviceNeedsAttention(view: ServiceView, service: GlobalService): Why | undefined {
  const conditions = service.status?.conditions;
  if (isTrue(conditions, conditionTypes.Stalled)) return why(findCondition(conditions, conditionTypes.Stalled), 'Stalled');
  if (view.phase === 'Halted' || view.clusters.failed > 0) return why(findCondition(conditions, conditionTypes.Ready), 'Halted');
  return undefined;
}

export function overview(objects: FleetObjects): Overview {
  const clusters = Object.fromEntries([...clusterStates.map((s) => [s, 0]), ['total', 0]]) as Overview['clusters'];
  const versions = new Map<string, number>();
  const clusterAttention: Overview['clusterAttention'] = [];
  for (const member of objects.members) {
    const row = clusterRow(member, objects.worksOf(member.metadata.name ?? ''));
    clusters[row.state]++;
    clusters.total++;
    if (row.kubernetesVersion !== '') versions.set(row.kubernetesVersion, (versions.get(row.kubernetesVersion) ?? 0) + 1);
    if (row.state !== 'Ready' && row.state !== 'Paused')
      clusterAttention.push({ cluster: row.name, state: row.state, reason: row.reason, message: row.message });
  }
  clusterAttention.sort((a, b) => clusterStates.indexOf(a.state) - clusterStates.indexOf(b.state) || a.cluster.localeCompare(b.cluster));
  const services: Overview['services'] = { total: 0 };
  const serviceAttention: Overview['serviceAttention'] = [];
  for (const service of objects.services) {
    const view = serviceView(service, () => '');
    services[view.phase] = (services[view.phase] ?? 0) + 1;
    services.total++;
    const problem = serviceNeedsAttention(view, service);
    if (problem) serviceAttention.push({ namespace: view.namespace, name: view.name, phase: view.phase, ...problem });
  }
  const policies = objects.policies.map(policyView);
  return {
    fleets: [...objects.fleets].sort(),
    clusters,
    kubernetesVersions: [...versions]
      .map(([version, count]) => ({ version, count }))
      .sort((a, b) => b.count - a.count || a.version.localeCompare(b.version)),
    services,
    policies: {
      total: policies.length,
      compliant: policies.filter((p) => p.nonCompliant === 0 && p.targeted > 0).length,
      nonCompliant: policies.filter((p) => p.nonCompliant > 0).length,
      audit: policies.filter((p) => p.mode === 'Audit').length,
      enforce: policies.filter((p) => p.mode === 'Enforce').length,
    },
    clusterAttention: clusterAttention.slice(0, MAX_ATTENTION),
    serviceAttention: serviceAttention.slice(0, MAX_ATTENTION),
  };
}
