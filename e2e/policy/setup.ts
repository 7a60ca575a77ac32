// The PolicyBundle path on real planes: the members' Work agents in-process with their real
// least-privilege hub identity (e2e/agent/harness.ts), and the hub's PolicyBundle controller
// in-process on a manager of its own, in the fleet the harness registers members into.
import { apiVersion, PolicyBundleType, type PolicyBundleSpec } from '../../src/api/index.js';
import { policyBundleController, policyBundleSources, type PolicyBundleObject } from '../../src/hub/policybundle/controller.js';
import { createLogger } from '../../src/runtime/log.js';
import { createManager } from '../../src/runtime/manager.js';
import type { Kube } from '../../src/runtime/kube.js';
import type { PlaneName } from '../framework/index.js';
import {
  adminKube,
  installFlotilla,
  registerMember,
  runAgent,
  unregisterMember,
  type Member,
  type RunningAgent,
} from '../agent/harness.js';

/** The fleet registerMember puts members in, and its workspace. */
export const FLEET = 'agent-e2e';
export const WORKSPACE = `fleet-${FLEET}`;

export interface PolicyEnv {
  hub: Kube;
  members: Member[];
  agents: RunningAgent[];
  stop(): Promise<void>;
}

export async function startPolicyEnv(spokes: readonly PlaneName[]): Promise<PolicyEnv> {
  const hub = adminKube('hub');
  await installFlotilla(hub);
  await hub.apply({ apiVersion, kind: 'Fleet', metadata: { name: FLEET }, spec: {} }, { fieldManager: 'flotilla-e2e' });
  await hub.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: WORKSPACE } }, { fieldManager: 'flotilla-e2e' });
  const members = await Promise.all(spokes.map((spoke) => registerMember(spoke)));
  const agents = await Promise.all(members.map((member) => runAgent(member)));
  const stopHub = new AbortController();
  const level = process.env.FLOTILLA_E2E_LOG;
  const manager = createManager({
    kube: hub,
    component: 'flotilla-hub-e2e',
    ...(level ? { logger: createLogger({ component: 'hub', level }) } : {}),
  });
  manager.controller(policyBundleController(manager, policyBundleSources()));
  const running = manager.start(stopHub.signal);
  return {
    hub,
    members,
    agents,
    async stop() {
      stopHub.abort(new Error('test done'));
      await running;
      await Promise.all(agents.map((a) => a.stop()));
      await Promise.all(members.map((m) => unregisterMember(m)));
      hub.close();
    },
  };
}

export function bundleObject(name: string, spec: PolicyBundleSpec): PolicyBundleObject {
  return { apiVersion, kind: 'PolicyBundle', metadata: { name, namespace: WORKSPACE }, spec };
}

export async function readBundle(hub: Kube, name: string): Promise<PolicyBundleObject> {
  return hub.get<PolicyBundleObject>(PolicyBundleType, name, WORKSPACE);
}
