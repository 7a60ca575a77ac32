// The Work agent alone in a child process, so that a test can SIGKILL it (crash.e2e.ts): the same
// startWorkAgent the `flotilla agent` command runs, against the hub as the member's own identity
// and the spoke as its admin. Its configuration comes as JSON in FLOTILLA_E2E_AGENT; it logs JSON
// lines to stdout and runs until it is killed or gets SIGTERM.
import { startWorkAgent } from '../../src/agent/work-agent.js';
import { kubeFromFile, kubeFromToken } from '../../src/runtime/kube.js';
import { createLogger } from '../../src/runtime/log.js';
import { shutdownSignal } from '../../src/runtime/signals.js';

export interface AgentProcessConfig {
  hub: { server: string; token: string; caData?: string };
  spokeKubeconfig: string;
  cluster: string;
  systemNamespace: string;
}

const config = JSON.parse(process.env.FLOTILLA_E2E_AGENT ?? '{}') as AgentProcessConfig;
const signal = shutdownSignal();
const spoke = kubeFromFile(config.spokeKubeconfig, undefined, { userAgent: 'flotilla-agent-e2e' });
const hub = kubeFromToken(config.hub, { userAgent: 'flotilla-agent-e2e', timeoutMs: 5_000 });
const agent = await startWorkAgent({
  hub,
  spoke,
  cluster: config.cluster,
  systemNamespace: config.systemNamespace,
  signal,
  logger: createLogger({ component: `agent-${config.cluster}`, level: 'info' }),
});
await agent.done;
hub.close();
spoke.close();
