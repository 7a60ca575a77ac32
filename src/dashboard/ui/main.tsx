// The dashboard page: one Preact app with a page per hash route (#/, #/clusters, #/clusters/NAME,
// #/capacity, #/services, #/policies), each narrowed to one fleet by `?fleet=NAME` in the hash (the
// fleet picker sets it; the server applies it). Every view is computed by the server (src/dashboard/views.ts,
// whose types this imports); the page only draws it, and asks again when the server's event stream
// says the viewer's fleets changed. Charts are Chart.js.
import { createContext, render, type ComponentChildren } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import type {
  CapacityRow,
  ClusterDetail,
  ClusterPage,
  ClusterState,
  CompliancePage,
  ComplianceState,
  Overview,
  PolicyView,
  ServiceView,
  SortColumn,
} from '../views.js';
import './app.css';

Chart.register(ArcElement, BarController, BarElement, CategoryScale, DoughnutController, Legend, LinearScale, Tooltip);

const states: ClusterState[] = ['Unknown', 'Degraded', 'NotReady', 'Joining', 'Paused', 'Ready'];
const stateColours: Record<ClusterState, string> = {
  Unknown: '#d9a400',
  Degraded: '#b3261e',
  NotReady: '#e06c5a',
  Joining: '#9aa5b1',
  Paused: '#6b7785',
  Ready: '#2e9d5b',
};

// ---------------------------------------------------------------------------------------------
// Data: fetched again whenever the live stream says something changed.

function useLiveVersion(): { version: number; connected: boolean } {
  const [version, setVersion] = useState(0);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const events = new EventSource('/api/events');
    events.onopen = () => {
      setConnected(true);
    };
    events.onerror = () => {
      setConnected(false);
    };
    events.addEventListener('change', () => {
      setVersion((v) => v + 1);
    });
    return () => {
      events.close();
    };
  }, []);
  return { version, connected };
}

/** The fleet the page is narrowed to ('' for all the viewer may see), from the URL. */
const FleetContext = createContext('');

/** `path` (a hash route or an API path) narrowed to `fleet`, as the URL and the server spell it. */
function withFleet(path: string, fleet: string): string {
  return fleet === '' ? path : `${path}${path.includes('?') ? '&' : '?'}fleet=${encodeURIComponent(fleet)}`;
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape of the JSON its endpoint answers.
function useJson<T>(endpoint: string, version: number): { data: T | undefined; error: string } {
  const path = withFleet(endpoint, useContext(FleetContext));
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    let current = true;
    fetch(path)
      .then(async (response) => {
        if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);
        return (await response.json()) as T;
      })
      .then(
        (value) => {
          if (!current) return;
          setData(value);
          setError('');
        },
        (e: unknown) => {
          if (current) setError(String(e));
        },
      );
    return () => {
      current = false;
    };
  }, [path, version]);
  return { data, error };
}

// ---------------------------------------------------------------------------------------------
// Pieces

function ChartCanvas({ config, wide }: { config: ChartConfiguration<'bar' | 'doughnut', number[], string>; wide?: boolean }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'bar' | 'doughnut', number[], string> | null>(null);
  useEffect(() => {
    if (!canvas.current) return;
    chart.current = new Chart(canvas.current, { ...config, options: { ...config.options, animation: false, maintainAspectRatio: false } });
    return () => chart.current?.destroy();
  }, [JSON.stringify(config.data)]);
  return (
    <div class={wide === true ? 'chart wide' : 'chart'}>
      <canvas ref={canvas} />
    </div>
  );
}

function Card({ label, value, id }: { label: string; value: number; id: string }) {
  return (
    <div class="card" data-testid={id}>
      <div class="n">{value}</div>
      <div class="l">{label}</div>
    </div>
  );
}

/** A link to a cluster's page that keeps the chosen fleet. */
function ClusterLink({ name }: { name: string }) {
  return <a href={withFleet(`#/clusters/${encodeURIComponent(name)}`, useContext(FleetContext))}>{name}</a>;
}

function Loading({ error }: { error: string }) {
  return error !== '' ? <p class="error">{error}</p> : <p>Loading…</p>;
}

const percent = (value: number | null): string => (value === null ? '–' : `${Math.round(value * 100)}%`);

function Bar({ value }: { value: number | null }) {
  if (value === null) return <span>–</span>;
  return (
    <span title={percent(value)}>
      <span class={value > 1 ? 'bar over' : 'bar'}>
        <span style={{ width: `${Math.min(100, value * 100)}%` }} />
      </span>{' '}
      {percent(value)}
    </span>
  );
}

// ---------------------------------------------------------------------------------------------
// Pages

function OverviewPage({ version }: { version: number }) {
  const { data, error } = useJson<Overview & { capacity: CapacityRow[] }>('/api/overview', version);
  if (!data) return <Loading error={error} />;
  return (
    <section data-testid="overview">
      <h2>Fleets: {data.fleets.join(', ') || 'none you may see'}</h2>
      <div class="cards">
        <Card label="clusters" value={data.clusters.total} id="clusters-total" />
        {states.map((s) => (
          <Card key={s} label={s} value={data.clusters[s]} id={`clusters-${s}`} />
        ))}
        <Card label="services" value={data.services.total} id="services-total" />
        <Card label="policies" value={data.policies.total} id="policies-total" />
        <Card label="non-compliant policies" value={data.policies.nonCompliant} id="policies-noncompliant" />
      </div>
      <div class="charts">
        <ChartCanvas
          config={{
            type: 'doughnut',
            data: {
              labels: states,
              datasets: [{ data: states.map((s) => data.clusters[s]), backgroundColor: states.map((s) => stateColours[s]) }],
            },
            options: { plugins: { legend: { position: 'right' } } },
          }}
        />
        <ChartCanvas
          config={{
            type: 'bar',
            data: {
              labels: data.kubernetesVersions.map((v) => v.version),
              datasets: [
                { label: 'clusters by Kubernetes version', data: data.kubernetesVersions.map((v) => v.count), backgroundColor: '#3b6fd8' },
              ],
            },
          }}
        />
        <ChartCanvas
          config={{
            type: 'bar',
            data: {
              labels: Object.keys(data.services).filter((k) => k !== 'total'),
              datasets: [
                {
                  label: 'services by rollout phase',
                  data: Object.entries(data.services)
                    .filter(([k]) => k !== 'total')
                    .map(([, n]) => n),
                  backgroundColor: '#6b4fd8',
                },
              ],
            },
          }}
        />
      </div>
      <h3>Clusters that need attention</h3>
      <AttentionTable
        testId="cluster-attention"
        subject="cluster"
        state="state"
        rows={data.clusterAttention.map((a) => ({
          key: a.cluster,
          subject: <ClusterLink name={a.cluster} />,
          state: a.state,
          stateClass: `state-${a.state}`,
          reason: a.reason,
          message: a.message,
        }))}
      />
      <h3>Services that need attention</h3>
      <AttentionTable
        testId="service-attention"
        subject="service"
        state="phase"
        rows={data.serviceAttention.map((a) => ({
          key: `${a.namespace}/${a.name}`,
          subject: `${a.namespace}/${a.name}`,
          state: a.phase,
          reason: a.reason,
          message: a.message,
        }))}
      />
    </section>
  );
}

interface AttentionRow {
  key: string;
  subject: ComponentChildren;
  state: string;
  stateClass?: string;
  reason: string;
  message: string;
}

/** What needs attention first, a row each: the object, its state, and the reason and message of its condition. */
function AttentionTable({ testId, subject, state, rows }: { testId: string; subject: string; state: string; rows: AttentionRow[] }) {
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th>{subject}</th>
          <th>{state}</th>
          <th>reason</th>
          <th>message</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.key}>
            <td>{row.subject}</td>
            <td class={row.stateClass}>{row.state}</td>
            <td>{row.reason}</td>
            <td>{row.message}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A table's filter: setting it shows the first page again, as the rows it pages through change. */
function useFilter<T>(initial: T, toFirstPage: () => void): [T, (value: T) => void] {
  const [value, setValue] = useState(initial);
  return [
    value,
    (next) => {
      setValue(next);
      toFirstPage();
    },
  ];
}

/** A table's name filter, asked for on every keystroke. */
function SearchBox({
  testId,
  placeholder,
  value,
  onSearch,
}: {
  testId: string;
  placeholder: string;
  value: string;
  onSearch: (value: string) => void;
}) {
  return (
    <input
      type="text"
      placeholder={placeholder}
      data-testid={testId}
      value={value}
      onInput={(e) => {
        onSearch(e.currentTarget.value);
      }}
    />
  );
}

/** A checkbox per state (value, label): the rows shown are those in a chosen state, or all when none is chosen. */
function StateChoice<S extends string>({
  testIdPrefix,
  states,
  chosen,
  onChoose,
}: {
  testIdPrefix: string;
  states: [S, string][];
  chosen: S[];
  onChoose: (chosen: S[]) => void;
}) {
  return (
    <>
      {states.map(([state, label]) => (
        <label key={state}>
          <input
            type="checkbox"
            data-testid={`${testIdPrefix}-${state}`}
            checked={chosen.includes(state)}
            onChange={() => {
              onChoose(chosen.includes(state) ? chosen.filter((c) => c !== state) : [...chosen, state]);
            }}
          />
          {label}
        </label>
      ))}
    </>
  );
}

/** How many rows match, which are shown, and the buttons to page through them (PAGE at a time). */
function Pager({
  testId,
  total,
  offset,
  setOffset,
}: {
  testId: string;
  total: number;
  offset: number;
  setOffset: (offset: number) => void;
}) {
  return (
    <p data-testid={testId}>
      {total} clusters{total > PAGE ? `, ${offset + 1}–${Math.min(total, offset + PAGE)} shown` : ''}{' '}
      <button
        disabled={offset === 0}
        onClick={() => {
          setOffset(Math.max(0, offset - PAGE));
        }}
      >
        previous
      </button>{' '}
      <button
        disabled={offset + PAGE >= total}
        onClick={() => {
          setOffset(offset + PAGE);
        }}
      >
        next
      </button>
    </p>
  );
}

const columns: [SortColumn, string][] = [
  ['name', 'cluster'],
  ['fleet', 'fleet'],
  ['state', 'state'],
  ['kubernetesVersion', 'version'],
  ['nodes', 'nodes'],
  ['cpu', 'CPU requested'],
  ['memory', 'memory requested'],
  ['works', 'works'],
  ['lastHeartbeat', 'heartbeat'],
];
const PAGE = 50;

function ClustersPage({ version, params }: { version: number; params: URLSearchParams }) {
  const [offset, setOffset] = useState(0);
  const toFirstPage = (): void => {
    setOffset(0);
  };
  const [search, setSearch] = useFilter(params.get('search') ?? '', toFirstPage);
  const [selector, setSelector] = useFilter(params.get('selector') ?? '', toFirstPage);
  // What is being typed: a half-typed selector is not valid, so it is asked for only on Enter or blur,
  // and a live update's re-render while typing must not put the applied one back into the box.
  const [selectorDraft, setSelectorDraft] = useState(selector);
  const [chosen, setChosen] = useFilter<ClusterState[]>(
    (params.get('state') ?? '').split(',').filter((s): s is ClusterState => states.includes(s as ClusterState)),
    toFirstPage,
  );
  const [sort, setSort] = useState<SortColumn>((params.get('sort') as SortColumn | null) ?? 'state');
  const [descending, setDescending] = useState(params.get('order') === 'desc');
  const query = new URLSearchParams({
    search,
    selector,
    state: chosen.join(','),
    sort,
    order: descending ? 'desc' : 'asc',
    offset: String(offset),
    limit: String(PAGE),
  });
  const { data, error } = useJson<ClusterPage>(`/api/clusters?${query.toString()}`, version);
  const sortBy = (column: SortColumn): void => {
    if (column === sort) setDescending(!descending);
    else {
      setSort(column);
      setDescending(false);
    }
    setOffset(0);
  };
  return (
    <section data-testid="clusters">
      <div class="filters">
        <SearchBox testId="search" placeholder="search by name" value={search} onSearch={setSearch} />
        <input
          type="text"
          placeholder="label selector, e.g. env=prod,tier in (gold)"
          data-testid="selector"
          value={selectorDraft}
          onInput={(e) => {
            setSelectorDraft(e.currentTarget.value);
          }}
          onChange={(e) => {
            setSelector(e.currentTarget.value);
          }}
        />
        <StateChoice testIdPrefix="state" states={states.map((s) => [s, s])} chosen={chosen} onChoose={setChosen} />
      </div>
      {error !== '' && <p class="error">{error}</p>}
      {data && (
        <>
          <Pager testId="cluster-total" total={data.total} offset={offset} setOffset={setOffset} />
          <table data-testid="cluster-table">
            <thead>
              <tr>
                {columns.map(([column, label]) => (
                  <th
                    key={column}
                    class="sortable"
                    data-testid={`sort-${column}`}
                    onClick={() => {
                      sortBy(column);
                    }}
                  >
                    {label}
                    {column === sort ? (descending ? ' ▼' : ' ▲') : ''}
                  </th>
                ))}
                <th>why</th>
              </tr>
            </thead>
            <tbody>
              {data.rows.map((row) => (
                <tr key={row.name} data-cluster={row.name}>
                  <td>
                    <ClusterLink name={row.name} />
                  </td>
                  <td>{row.fleet}</td>
                  <td class={`state-${row.state}`}>{row.state}</td>
                  <td>{row.kubernetesVersion}</td>
                  <td>{row.nodes ?? '–'}</td>
                  <td>
                    <Bar value={row.cpu} />
                  </td>
                  <td>
                    <Bar value={row.memory} />
                  </td>
                  <td>{row.works}</td>
                  <td>{row.lastHeartbeat ?? '–'}</td>
                  <td>{row.reason !== '' ? `${row.reason}: ${row.message}` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function ClusterPageView({ version, name }: { version: number; name: string }) {
  const { data, error } = useJson<ClusterDetail>(`/api/clusters/${encodeURIComponent(name)}`, version);
  if (!data) return <Loading error={error} />;
  const { row } = data;
  return (
    <section data-testid="cluster">
      <h2>
        {row.name} <span class={`state-${row.state}`}>{row.state}</span>
      </h2>
      <p>
        fleet {row.fleet} · Kubernetes {row.kubernetesVersion || '–'} · {row.nodes ?? '–'} nodes · agent {data.agentVersion || '–'} · last
        heartbeat {data.heartbeat ?? '–'}
      </p>
      <p>
        labels:{' '}
        <code>
          {Object.entries(row.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ') || 'none'}
        </code>
      </p>
      <p>
        CPU requested <Bar value={row.cpu} /> · memory requested <Bar value={row.memory} />
      </p>
      <table>
        <tbody>
          {data.conditions.map((c) => (
            <tr key={c.type}>
              <td>{c.type}</td>
              <td>{c.status}</td>
              <td>{c.reason}</td>
              <td>{c.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data.works.map((work) => {
        const degraded = work.conditions.find((c) => c.type === 'Degraded' && c.status === 'True');
        return (
          <div key={work.name} data-testid="work" data-work={work.name} data-degraded={degraded ? 'true' : 'false'}>
            <h3>
              Work {work.name} <small>({work.source})</small> {degraded && <span class="bad">Degraded: {degraded.reason}</span>}
            </h3>
            <p>
              revision {work.revision}, applied {work.appliedRevision || '–'} ·{' '}
              {work.conditions
                .map((c) => `${c.type}=${c.status}${c.status !== 'True' || c.type === 'Degraded' ? ` (${c.reason})` : ''}`)
                .join(' · ')}
            </p>
            <table>
              <thead>
                <tr>
                  <th>object</th>
                  <th>applied</th>
                  <th>health</th>
                  <th>drift</th>
                  <th>message</th>
                </tr>
              </thead>
              <tbody>
                {work.manifests.map((m) => (
                  <tr key={`${m.kind}/${m.namespace}/${m.name}`}>
                    <td>
                      {m.kind} {m.namespace !== '' ? `${m.namespace}/` : ''}
                      {m.name}
                    </td>
                    <td>{m.applied ? 'yes' : 'no'}</td>
                    <td class={m.health === 'Degraded' ? 'bad' : ''}>{m.health}</td>
                    <td>{m.drifted ? `drifted: ${m.driftedFields.join(', ')}` : '–'}</td>
                    <td>{m.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
      })}
    </section>
  );
}

function CapacityPage({ version }: { version: number }) {
  const { data, error } = useJson<Overview & { capacity: CapacityRow[] }>('/api/overview', version);
  const busiest = useJson<ClusterPage>('/api/clusters?sort=cpu&order=desc&limit=20', version);
  const idlest = useJson<ClusterPage>('/api/clusters?sort=cpu&order=asc&limit=20', version);
  if (!data) return <Loading error={error} />;
  const ratio = (used: number, of: number): number => (of > 0 ? Math.round((used / of) * 100) : 0);
  return (
    <section data-testid="capacity">
      <ChartCanvas
        wide
        config={{
          type: 'bar',
          data: {
            labels: data.capacity.map((f) => f.name),
            datasets: [
              {
                label: 'CPU requested / allocatable %',
                data: data.capacity.map((f) => ratio(f.cpu.requested, f.cpu.allocatable)),
                backgroundColor: '#3b6fd8',
              },
              {
                label: 'memory requested / allocatable %',
                data: data.capacity.map((f) => ratio(f.memory.requested, f.memory.allocatable)),
                backgroundColor: '#6b4fd8',
              },
            ],
          },
          options: { indexAxis: 'y' },
        }}
      />
      <table data-testid="fleet-capacity">
        <thead>
          <tr>
            <th>fleet</th>
            <th>CPU capacity</th>
            <th>CPU allocatable</th>
            <th>CPU requested</th>
            <th>memory capacity (GiB)</th>
            <th>memory allocatable (GiB)</th>
            <th>memory requested (GiB)</th>
          </tr>
        </thead>
        <tbody>
          {data.capacity.map((f) => (
            <tr key={f.name}>
              <td>{f.name}</td>
              <td>{f.cpu.capacity.toFixed(1)}</td>
              <td>{f.cpu.allocatable.toFixed(1)}</td>
              <td>{f.cpu.requested.toFixed(1)}</td>
              {[f.memory.capacity, f.memory.allocatable, f.memory.requested].map((bytes, i) => (
                <td key={i}>{(bytes / 2 ** 30).toFixed(1)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {(
        [
          ['Most committed (CPU)', busiest.data],
          ['Idlest (CPU)', idlest.data],
        ] as const
      ).map(([title, ranked]) => (
        <div key={title}>
          <h3>{title}</h3>
          <table>
            <tbody>
              {ranked?.rows.map((row) => (
                <tr key={row.name}>
                  <td>
                    <ClusterLink name={row.name} />
                  </td>
                  <td>
                    <Bar value={row.cpu} />
                  </td>
                  <td>
                    <Bar value={row.memory} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}

function ServicesPage({ version }: { version: number }) {
  const { data, error } = useJson<ServiceView[]>('/api/services', version);
  if (!data) return <Loading error={error} />;
  return (
    <section data-testid="services">
      {data.map((s) => (
        <div key={`${s.namespace}/${s.name}`} data-service={`${s.namespace}/${s.name}`}>
          <h3>
            {s.namespace}/{s.name} <small>fleet {s.fleet}</small>
          </h3>
          <p>
            revision <code>{s.revision || '–'}</code> · {s.strategy} · phase <b data-testid="phase">{s.phase}</b> · {s.clusters.available}/
            {s.clusters.targeted} available, {s.clusters.updated} updated, {s.clusters.failed} failed, {s.clusters.drifted} drifted
            {s.source && (
              <>
                {' '}
                · source {s.source.url} at <code>{s.source.revision}</code>
              </>
            )}
          </p>
          {s.message !== '' && <p>{s.message}</p>}
          {s.stages.length > 0 && (
            <table>
              <tbody>
                {s.stages.map((stage) => (
                  <tr key={stage.name} data-stage={stage.name}>
                    <td>{stage.name}</td>
                    <td>{stage.state}</td>
                    <td>{stage.approveCommand !== undefined && <code data-testid="approve-command">{stage.approveCommand}</code>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {s.attention.length > 0 && (
            <table>
              <tbody>
                {s.attention.map((a) => (
                  <tr key={a.cluster}>
                    <td>{a.cluster}</td>
                    <td>{a.reason}</td>
                    <td>{a.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      ))}
    </section>
  );
}

function PoliciesPage({ version }: { version: number }) {
  const { data, error } = useJson<PolicyView[]>('/api/policies', version);
  if (!data) return <Loading error={error} />;
  return (
    <section data-testid="policies">
      <table data-testid="policy-table">
        <thead>
          <tr>
            <th>policy bundle</th>
            <th>mode</th>
            <th>compliant</th>
            <th>non-compliant</th>
            <th>violations by kind</th>
            <th>worst</th>
          </tr>
        </thead>
        <tbody>
          {data.map((p) => (
            <tr key={`${p.namespace}/${p.name}`} data-policy={`${p.namespace}/${p.name}`}>
              <td>
                {p.namespace}/{p.name}
              </td>
              <td>{p.mode}</td>
              <td>
                {p.compliant}/{p.targeted}
              </td>
              <td class={p.nonCompliant > 0 ? 'bad' : ''}>{p.nonCompliant}</td>
              <td>{p.violationsByKind.map((v) => `${v.kind}: ${v.count}`).join(', ')}</td>
              <td>{p.worst.map((v) => `${v.cluster} ${v.kind} ${v.policy}: ${v.message}`).join('; ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Compliance per cluster</h3>
      <ComplianceTable version={version} />
    </section>
  );
}

const complianceLabels: Record<ComplianceState, string> = {
  nonCompliant: 'non-compliant',
  unknown: 'not reported',
  compliant: 'compliant',
};

/** A row per cluster a bundle targets: its state with each bundle, and what violates it; worst first, filtered by state and name. */
function ComplianceTable({ version }: { version: number }) {
  const [offset, setOffset] = useState(0);
  const toFirstPage = (): void => {
    setOffset(0);
  };
  const [search, setSearch] = useFilter('', toFirstPage);
  const [chosen, setChosen] = useFilter<ComplianceState[]>([], toFirstPage);
  const query = new URLSearchParams({ search, state: chosen.join(','), offset: String(offset), limit: String(PAGE) });
  const { data, error } = useJson<CompliancePage>(`/api/policies/compliance?${query.toString()}`, version);
  return (
    <div data-testid="compliance">
      <div class="filters">
        <SearchBox testId="compliance-search" placeholder="search by cluster name" value={search} onSearch={setSearch} />
        <StateChoice
          testIdPrefix="compliance"
          states={Object.entries(complianceLabels) as [ComplianceState, string][]}
          chosen={chosen}
          onChoose={setChosen}
        />
      </div>
      {error !== '' && <p class="error">{error}</p>}
      {data && (
        <>
          <Pager testId="compliance-total" total={data.total} offset={offset} setOffset={setOffset} />
          <table data-testid="compliance-table">
            <thead>
              <tr>
                <th>cluster</th>
                <th>fleet</th>
                <th>state</th>
                <th>bundles</th>
              </tr>
            </thead>
            <tbody>
              {data.rows.map((row) => (
                <tr key={row.cluster} data-compliance={row.cluster}>
                  <td>
                    <ClusterLink name={row.cluster} />
                  </td>
                  <td>{row.fleet}</td>
                  <td class={`compliance-${row.state}`}>{complianceLabels[row.state]}</td>
                  <td>
                    {row.bundles.map((b) => (
                      <div key={b.bundle} data-bundle={b.bundle}>
                        <span class={`compliance-${b.state}`}>{complianceLabels[b.state]}</span> {b.bundle} ({b.mode})
                        {b.violations.map((v) => `; ${v.kind} ${v.policy}${v.count > 1 ? ` ×${v.count}` : ''}: ${v.message}`).join('')}
                        {b.more > 0 ? `; and ${b.more} more` : ''}
                      </div>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// Shell

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = (): void => {
      setHash(location.hash);
    };
    addEventListener('hashchange', onChange);
    return () => {
      removeEventListener('hashchange', onChange);
    };
  }, []);
  return hash;
}

const tabs: [string, string][] = [
  ['#/', 'Overview'],
  ['#/clusters', 'Clusters'],
  ['#/capacity', 'Capacity'],
  ['#/services', 'Services'],
  ['#/policies', 'Policies'],
];

/** Chooses the fleet every page shows: the choice goes into the URL, so it survives a reload and a shared link. */
function FleetPicker({ version, route, params }: { version: number; route: string; params: URLSearchParams }) {
  const { data } = useJson<string[]>('/api/fleets', version);
  const fleet = params.get('fleet') ?? '';
  return (
    <select
      data-testid="fleet-picker"
      value={fleet}
      onChange={(e) => {
        const next = new URLSearchParams(params);
        if (e.currentTarget.value === '') next.delete('fleet');
        else next.set('fleet', e.currentTarget.value);
        location.hash = next.toString() === '' ? route : `${route}?${next.toString()}`;
      }}
    >
      <option value="">all fleets</option>
      {[...new Set([...(data ?? []), ...(fleet !== '' ? [fleet] : [])])].map((name) => (
        <option key={name} value={name}>
          {name}
        </option>
      ))}
    </select>
  );
}

function App() {
  const hash = useHash();
  const { version, connected } = useLiveVersion();
  const [route = '#/', search = ''] = (hash === '' ? '#/' : hash).split('?');
  const params = new URLSearchParams(search);
  const fleet = params.get('fleet') ?? '';
  const cluster = /^#\/clusters\/(.+)$/.exec(route);
  let body;
  if (cluster) body = <ClusterPageView version={version} name={decodeURIComponent(cluster[1] ?? '')} />;
  else if (route === '#/clusters') body = <ClustersPage version={version} params={params} />;
  else if (route === '#/capacity') body = <CapacityPage version={version} />;
  else if (route === '#/services') body = <ServicesPage version={version} />;
  else if (route === '#/policies') body = <PoliciesPage version={version} />;
  else body = <OverviewPage version={version} />;
  return (
    <FleetContext.Provider value={fleet}>
      <header>
        <b>flotilla</b>
        {tabs.map(([href, label]) => (
          <a key={href} href={withFleet(href, fleet)} class={route === href || (href === '#/clusters' && cluster) ? 'active' : ''}>
            {label}
          </a>
        ))}
        <FleetPicker version={version} route={route} params={params} />
        <span class="live" data-testid="live" data-connected={String(connected)}>
          {connected ? '● live' : '○ reconnecting'}
        </span>
      </header>
      <main>{body}</main>
    </FleetContext.Provider>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
