// A fleet on the real planes, set up the way an operator sets one up: the CRDs from `flotilla
// install`, the hub operator as a process of the built CLI, a Fleet, and each spoke joined with
// `flotilla join` (its bootstrap applied with kubectl) running the Work agent in-process as the hub
// identity the join gave it. The GlobalService suites share it; stop() undoes it all.
import yaml from 'js-yaml';
import { parseBootstrap } from '../../src/agent/bootstrap.js';
import { startWorkAgent } from '../../src/agent/work-agent.js';
import { apiVersion, type Fleet } from '../../src/api/index.js';
import { kubeFromFile, kubeFromToken, silentLogger, type Kube, type KubeObject } from '../../src/runtime/index.js';
import { kubectlOk, plane, uniqueName, type PlaneName } from '../framework/index.js';
import { runFlotilla, startProgram, stopAll, type Program } from '../membership/processes.js';

export interface SpokeSpec {
  plane: PlaneName;
  /** The MemberCluster's name. */
  name: string;
  /** `KEY=VALUE` labels given to `flotilla join`. */
  labels?: string[];
}

export interface Spoke extends SpokeSpec {
  /** The spoke's admin client. */
  kube: Kube;
}

export interface FleetOnPlanes {
  hub: Kube;
  hubConfig: string;
  fleet: string;
  /** The Fleet's workspace namespace on the hub (fleet-NAME). */
  workspace: string;
  spokes: Spoke[];
  /** The hub operator's process, once started (its log is in `logFile`). */
  hubProgram(): Program;
  /** Installs the CRDs, starts the hub, creates the Fleet and joins every spoke (beforeAll). */
  start(): Promise<void>;
  /** Stops the agents and the hub, deletes the MemberClusters and the Fleet, and closes the clients (afterAll). */
  stop(): Promise<void>;
}

export interface FleetOptions {
  /** The fleet's name prefix (uniqueName makes it this run's own). */
  prefix: string;
  spokes: SpokeSpec[];
  fleetSpec?: Fleet['spec'];
  /** Flags for `flotilla hub` besides --kubeconfig and --health-address (may be computed in beforeAll). */
  hubArgs?: () => Promise<string[]> | string[];
  userAgent: string;
  /**
   * Run each spoke's agent as a `flotilla agent` process, as a Deployment would (heartbeat, facts and
   * the Work agent: the MemberClusters join), instead of the Work agent alone in this process.
   */
  agentProcesses?: boolean;
}

/** The fleet's names and clients at once (tests refer to them), its processes once start() has run. */
export function fleetOnPlanes(options: FleetOptions): FleetOnPlanes {
  const hubConfig = plane('hub').kubeconfigPath;
  const hub = kubeFromFile(hubConfig, undefined, { userAgent: options.userAgent });
  const fleet = uniqueName(options.prefix);
  const spokes = options.spokes.map((spec): Spoke => ({ ...spec, kube: kubeFromFile(plane(spec.plane).kubeconfigPath) }));
  const agents: (() => Promise<void>)[] = [];
  let program: Program | undefined;
  return {
    hub,
    hubConfig,
    fleet,
    workspace: `fleet-${fleet}`,
    spokes,
    hubProgram() {
      if (!program) throw new Error('the hub has not been started');
      return program;
    },
    async start() {
      const install = await runFlotilla(['install', '--kubeconfig', hubConfig]);
      if (install.code !== 0) throw new Error(`flotilla install failed: ${install.stderr}`);
      const extra = (await options.hubArgs?.()) ?? [];
      program = startProgram(`hub-${fleet}`, ['hub', '--kubeconfig', hubConfig, '--health-address', '127.0.0.1:0', ...extra]);
      await hub.create({ apiVersion, kind: 'Fleet', metadata: { name: fleet }, ...(options.fleetSpec ? { spec: options.fleetSpec } : {}) });
      for (const spoke of spokes) agents.push(await joinSpoke(hubConfig, fleet, spoke, options.agentProcesses ?? false));
    },
    async stop() {
      for (const stop of agents.reverse()) await stop();
      await program?.stop();
      await stopAll();
      for (const spoke of spokes) {
        await hub.delete({ apiVersion, kind: 'MemberCluster' }, spoke.name).catch(() => undefined);
        spoke.kube.close();
      }
      await hub.delete({ apiVersion, kind: 'Fleet' }, fleet).catch(() => undefined);
      hub.close();
    },
  };
}

/** `flotilla join`, its bootstrap applied on the spoke, and the agent started as the join's identity; returns its stop. */
async function joinSpoke(hubConfig: string, fleet: string, spoke: Spoke, asProcess: boolean): Promise<() => Promise<void>> {
  const joined = await runFlotilla([
    'join',
    spoke.name,
    '--fleet',
    fleet,
    ...(spoke.labels ?? []).flatMap((label) => ['--label', label]),
    '--kubeconfig',
    hubConfig,
  ]);
  if (joined.code !== 0) throw new Error(`flotilla join failed: ${joined.stderr}`);
  const secret = (yaml.loadAll(joined.stdout) as KubeObject[]).find((o) => o.kind === 'Secret');
  if (!secret) throw new Error('the bootstrap holds no Secret');
  await kubectlOk(spoke.plane, ['apply', '-f', '-'], joined.stdout);
  if (asProcess) {
    const agent = startProgram(`agent-${spoke.name}`, [
      'agent',
      '--kubeconfig',
      plane(spoke.plane).kubeconfigPath,
      '--heartbeat-interval',
      '2s',
      '--identity',
      spoke.name,
      '--health-address',
      '127.0.0.1:0',
    ]);
    return () => agent.stop();
  }
  const credentials = parseBootstrap(secret);
  const hubAsAgent = kubeFromToken(
    { server: credentials.server, token: credentials.token, caData: credentials.caData },
    { userAgent: 'flotilla-agent-e2e' },
  );
  const controller = new AbortController();
  const agent = await startWorkAgent({
    hub: hubAsAgent,
    spoke: spoke.kube,
    cluster: spoke.name,
    fleet,
    signal: controller.signal,
    logger: silentLogger(),
  });
  return async () => {
    controller.abort(new Error('done'));
    await agent.done;
    hubAsAgent.close();
  };
}
