// The agent's membership loops: it starts from the bootstrap Secret `flotilla join` produced, then
//  - heartbeats by renewing the Lease in its hub namespace (the hub judges Ready from it),
//  - reports its cluster's facts into its MemberCluster status, only when they changed, with
//    server-side apply as field manager flotilla-agent (the hub owns the other status fields);
//    the served APIs among them come from discovery, asked again when a CRD or APIService changes
//    and every --discovery-interval as a resync (served-apis.ts),
//  - renews its own token (TokenRequest on its own ServiceAccount) before it expires and writes the
//    new one back into the bootstrap Secret, so a restarted agent starts from a valid token,
//  - and runs the Work side (work-agent.ts): apply, prune, drift, health and Work status.
// Everything else it reads on the spoke comes from informers.
import { fieldManagers, flotillaNamespace, heartbeatLease, MemberClusterType, memberNamespace } from '../api/index.js';
import {
  createInformer,
  createMetrics,
  errorMessage,
  type Informer,
  isConflict,
  isNotFound,
  jsonEqual,
  type Kube,
  kubeFromToken,
  type KubeObject,
  type Lease,
  type LeaseSpec,
  LeaseType,
  type Logger,
  microTime,
  sleep,
  startHealthServer,
  trigger,
} from '../runtime/index.js';
import {
  agentServiceAccountOf,
  bootstrapData,
  bootstrapSecretName,
  bootstrapSecretType,
  parseBootstrap,
  type HubCredentials,
} from './bootstrap.js';
import { clusterFacts, type ClusterFacts } from './facts.js';
import { trackServedAPIs, type ServedAPIsTracker } from './served-apis.js';
import { createAgentMetrics } from './metrics.js';
import { refreshAt, tokenLifetime, type RefreshPolicy } from './token.js';
import { startWorkAgent } from './work-agent.js';

const agentFieldManager = fieldManagers.agent;

export interface MemberAgentOptions {
  /** The agent's own cluster (admin or the agent's in-cluster identity). */
  spoke: Kube;
  logger: Logger;
  agentVersion: string;
  /** Holder identity written into the heartbeat Lease (e.g. the pod name). */
  identity: string;
  heartbeatIntervalMs: number;
  /** How often to ask the spoke's discovery for the APIs it serves when no watch saw a change (a resync). */
  discoveryIntervalMs: number;
  refresh: RefreshPolicy;
  /** Lifetime asked for each new token; the apiserver refuses less than 10 minutes. */
  tokenTtlSeconds: number;
  /** Where to serve /healthz, /readyz and /metrics (port 0: any free one); none without it. */
  health?: { host: string; port: number };
}

/** The agent's hub client, and the credentials it authenticates with: rotation replaces the credentials only. */
interface Session {
  credentials: HubCredentials;
  hub: Kube;
}

async function readBootstrap(spoke: Kube, log: Logger, signal: AbortSignal): Promise<KubeObject> {
  for (let attempt = 0; ; attempt++) {
    const secret = await spoke.getOrNull(bootstrapSecretType, bootstrapSecretName, flotillaNamespace, { signal });
    if (secret) return secret;
    if (attempt === 0)
      log.warn('waiting for the bootstrap Secret; apply the output of `flotilla join` to this cluster', {
        namespace: flotillaNamespace,
        name: bootstrapSecretName,
      });
    await sleep(2000, signal);
  }
}

/** A hub client that reads the token afresh for every request, so the Work watches survive rotation. */
function hubClient({ server, caData }: HubCredentials, token: () => string): Kube {
  return kubeFromToken({ server, caData, token }, { userAgent: 'flotilla-agent' });
}

/** The heartbeat Lease's spec at `now`: it counts as held for three intervals. */
export function heartbeatSpec(identity: string, intervalMs: number, now: number): LeaseSpec {
  return { holderIdentity: identity, leaseDurationSeconds: Math.ceil((intervalMs * 3) / 1000), renewTime: microTime(now) };
}

/** Renews the heartbeat Lease every interval, whatever else fails. */
async function heartbeatLoop(session: () => Session, options: MemberAgentOptions, log: Logger, signal: AbortSignal): Promise<void> {
  let lease: Lease | undefined;
  let failing = false;
  while (!signal.aborted) {
    const { hub, credentials } = session();
    const namespace = memberNamespace(credentials.cluster);
    const spec = heartbeatSpec(options.identity, options.heartbeatIntervalMs, Date.now());
    try {
      lease ??= (await hub.getOrNull<Lease>(LeaseType, heartbeatLease, namespace, { signal })) ?? undefined;
      lease = lease
        ? await hub.update<Lease>({ ...lease, spec: { ...lease.spec, ...spec } }, { signal, fieldManager: agentFieldManager })
        : await hub.create<Lease>(
            { ...LeaseType, metadata: { name: heartbeatLease, namespace }, spec },
            { signal, fieldManager: agentFieldManager },
          );
      if (failing) log.info('heartbeats reach the hub again', { cluster: credentials.cluster });
      failing = false;
    } catch (error) {
      if (stopped(signal)) return;
      // A stale copy (someone else wrote it, or it was deleted): read it afresh next round.
      if (isConflict(error) || isNotFound(error)) lease = undefined;
      if (!failing) log.warn('heartbeat failed; retrying', { cluster: credentials.cluster, error: errorMessage(error) });
      failing = true;
    }
    await sleep(options.heartbeatIntervalMs, signal).catch(() => undefined);
  }
}

/** The facts the MemberCluster holds now: after a restart, what the hub already has counts as reported. */
async function reportedFacts(hub: Kube, cluster: string, signal: AbortSignal): Promise<Partial<ClusterFacts>> {
  const status = (await hub.get(MemberClusterType, cluster, undefined, { signal })).status as Partial<ClusterFacts> | undefined;
  return {
    kubernetesVersion: status?.kubernetesVersion,
    agentVersion: status?.agentVersion,
    nodeCount: status?.nodeCount,
    resources: status?.resources,
    apiVersions: status?.apiVersions,
    apiVersionsOmitted: status?.apiVersionsOmitted,
  };
}

/** Writes the facts whenever the spoke's nodes, pods or served APIs change them; nothing when they did not. */
async function factsLoop(
  session: () => Session,
  options: MemberAgentOptions,
  caches: { nodes: Informer; pods: Informer; served: ServedAPIsTracker },
  wake: { next: () => Promise<void> },
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  await Promise.all([caches.nodes.waitForSync(signal), caches.pods.waitForSync(signal), caches.served.firstRound()]);
  let reported: Partial<ClusterFacts> | undefined;
  let version: { gitVersion: string; at: number } | undefined;
  while (!signal.aborted) {
    const { hub, credentials } = session();
    try {
      // The version only changes with an upgrade: ask again every few minutes, not per change.
      if (!version || Date.now() - version.at > 5 * 60_000) {
        const answer = await options.spoke.request<{ gitVersion?: string }>('GET', '/version', { signal });
        version = { gitVersion: answer.gitVersion ?? 'unknown', at: Date.now() };
      }
      reported ??= await reportedFacts(hub, credentials.cluster, signal);
      const facts = clusterFacts({
        kubernetesVersion: version.gitVersion,
        agentVersion: options.agentVersion,
        nodes: caches.nodes.store.list(),
        pods: caches.pods.store.list(),
        served: caches.served.current()?.groupVersions,
        reportedAPIVersions: { apiVersions: reported.apiVersions, apiVersionsOmitted: reported.apiVersionsOmitted },
      });
      if (!jsonEqual(reported, facts)) {
        await hub.apply(
          { ...MemberClusterType, metadata: { name: credentials.cluster }, status: facts },
          { fieldManager: agentFieldManager, force: true, subresource: 'status', signal },
        );
        reported = facts;
        log.info('reported cluster facts', {
          cluster: credentials.cluster,
          nodes: facts.nodeCount,
          version: facts.kubernetesVersion,
          apiVersions: facts.apiVersions?.length,
        });
      }
      await wake.next();
    } catch (error) {
      if (stopped(signal)) return;
      log.warn('reporting cluster facts failed; retrying', { cluster: credentials.cluster, error: errorMessage(error) });
      await sleep(options.heartbeatIntervalMs, signal).catch(() => undefined);
    }
  }
}

/** Requests a fresh token before the current one expires, and keeps the bootstrap Secret in step. */
async function tokenLoop(
  current: () => Session,
  replace: (next: HubCredentials) => void,
  options: MemberAgentOptions,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    const { hub, credentials } = current();
    const wait = failures === 0 ? refreshAt(credentials.token, options.refresh) - Date.now() : Math.min(30_000, 1000 * 2 ** failures);
    await sleep(Math.max(0, wait), signal).catch(() => undefined);
    if (stopped(signal)) return;
    try {
      const answer = await hub.request<{ status?: { token?: string; expirationTimestamp?: string } }>(
        'POST',
        `/api/v1/namespaces/${memberNamespace(credentials.cluster)}/serviceaccounts/${agentServiceAccountOf(credentials)}/token`,
        {
          body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: options.tokenTtlSeconds } },
          signal,
        },
      );
      const token = answer.status?.token;
      if (token === undefined || token === '') throw new Error('the TokenRequest answer holds no token');
      const next = { ...credentials, token };
      // The Secret first: if the agent dies right after, it restarts with the token it last used.
      await options.spoke.patch(
        bootstrapSecretType,
        bootstrapSecretName,
        flotillaNamespace,
        { data: bootstrapData(next) },
        { type: 'merge', signal, fieldManager: agentFieldManager },
      );
      replace(next);
      failures = 0;
      log.info('rotated the hub token', {
        cluster: credentials.cluster,
        expires: answer.status?.expirationTimestamp,
        nextRenewal: new Date(refreshAt(token, options.refresh)).toISOString(),
      });
    } catch (error) {
      if (stopped(signal)) return;
      failures++;
      const expiresAt = tokenLifetime(credentials.token)?.expiresAt;
      log.warn('token renewal failed; retrying', {
        cluster: credentials.cluster,
        error: errorMessage(error),
        failures,
        ...(expiresAt !== undefined ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
      });
    }
  }
}

/** Read through a call: TypeScript narrows `signal.aborted` as if it could not change across awaits. */
function stopped(signal: AbortSignal): boolean {
  return signal.aborted;
}

/** Runs the agent's membership loops until `signal` aborts. */
export async function runMemberAgent(options: MemberAgentOptions, signal: AbortSignal): Promise<void> {
  const log = options.logger;
  const secret = await readBootstrap(options.spoke, log, signal);
  const credentials = parseBootstrap(secret);
  const session: Session = { credentials, hub: hubClient(credentials, () => session.credentials.token) };
  log.info('starting the agent', { cluster: credentials.cluster, fleet: credentials.fleet, hub: credentials.server });

  const wake = trigger(500);
  const caches = {
    nodes: createInformer({ kube: options.spoke, type: { apiVersion: 'v1', kind: 'Node' }, logger: log }),
    pods: createInformer({
      kube: options.spoke,
      type: { apiVersion: 'v1', kind: 'Pod' },
      fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed',
      logger: log,
    }),
  };
  for (const cache of Object.values(caches)) cache.addHandler({ onAdd: wake.fire, onUpdate: wake.fire, onDelete: wake.fire });
  const served = trackServedAPIs({ spoke: options.spoke, intervalMs: options.discoveryIntervalMs, onChange: wake.fire, logger: log });
  // A shutdown must also release the facts loop waiting for the next change.
  signal.addEventListener('abort', wake.fire, { once: true });

  const current = (): Session => session;
  const metrics = createMetrics();
  const agentMetrics = createAgentMetrics(metrics.registry);
  metrics.watchKube(options.spoke);
  metrics.watchKube(session.hub);
  agentMetrics.watchHub(session.hub);
  // The Work side starts from its local copies at once and catches up whenever the hub answers.
  const work = await startWorkAgent({
    hub: session.hub,
    spoke: options.spoke,
    cluster: credentials.cluster,
    fleet: credentials.fleet,
    signal,
    logger: log,
    metrics: agentMetrics,
    runtimeMetrics: metrics,
    // The membership it joined: another MemberCluster under its name is not its hub's word.
    ...(credentials.memberUID !== undefined ? { memberUID: credentials.memberUID } : {}),
  });
  const health =
    options.health &&
    (await startHealthServer({
      ...options.health,
      registry: metrics.registry,
      readiness: { 'spoke-caches': () => caches.nodes.hasSynced() && caches.pods.hasSynced() },
    }));
  if (health) log.info('serving /healthz, /readyz and /metrics', { host: options.health?.host, port: health.port() });
  try {
    await Promise.all([
      work.done,
      caches.nodes.run(signal),
      caches.pods.run(signal),
      heartbeatLoop(current, options, log, signal),
      served.run(signal),
      factsLoop(current, options, { ...caches, served }, wake, log, signal),
      tokenLoop(
        current,
        (next) => {
          session.credentials = next;
        },
        options,
        log,
        signal,
      ),
    ]);
  } finally {
    await health?.close();
    session.hub.close();
    log.info('agent stopped', { cluster: credentials.cluster });
  }
}
