// `flotilla reconcile source NAME`: asks the hub to fetch a GlobalService's Git or Helm origin now,
// by setting the flotilla.dev/requested-at annotation (as `flux reconcile source` sets Flux's), and
// with --wait reports the revision the hub then fetched.
import type { Command } from 'commander';
import { annotations, conditionTypes, fieldManagers, GlobalServiceType, type GlobalService } from '../api/index.js';
import { findCondition, kubeFromDefault, kubeFromFile, sleep, timestamp, type Kube, type KubeObject } from '../runtime/index.js';

interface ReconcileFlags {
  namespace: string;
  wait: boolean;
  timeout: string;
  kubeconfig?: string;
  context?: string;
}

type ServiceObject = GlobalService & KubeObject;

/** Sets the request annotation to `value` with a merge patch (only that annotation changes). */
export async function requestFetch(kube: Kube, namespace: string, name: string, value: string): Promise<ServiceObject> {
  const service = await kube.get<ServiceObject>(GlobalServiceType, name, namespace);
  if (!service.spec.source.git && !service.spec.source.helm) {
    throw new Error(`GlobalService ${namespace}/${name} has no Git or Helm origin to fetch (its source is inline or ConfigMaps)`);
  }
  return kube.patch<ServiceObject>(
    GlobalServiceType,
    name,
    namespace,
    { metadata: { annotations: { [annotations.requestedAt]: value } } },
    { type: 'merge', fieldManager: fieldManagers.cli },
  );
}

async function waitForFetch(kube: Kube, namespace: string, name: string, timeoutMs: number): Promise<ServiceObject> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const service = await kube.get<ServiceObject>(GlobalServiceType, name, namespace);
    const ready = findCondition(service.status?.conditions, conditionTypes.Ready);
    const handled = service.status?.lastHandledRequest === service.metadata.annotations?.[annotations.requestedAt];
    if (handled) return service;
    if (Date.now() >= deadline)
      throw new Error(`the hub did not handle the request within the timeout (Ready: ${ready?.reason ?? 'unknown'})`);
    await sleep(1000);
  }
}

export function registerReconcile(program: Command): void {
  const reconcile = program.command('reconcile').description('Ask the hub to act now instead of at its next interval.');
  reconcile
    .command('source <name>')
    .description("Fetch a GlobalService's Git or Helm origin now (sets the flotilla.dev/requested-at annotation).")
    .requiredOption('-n, --namespace <namespace>', "the service's workspace namespace")
    .option('--wait', 'wait until the hub has handled the request, and print the revision it fetched', false)
    .option('--timeout <seconds>', 'how long --wait waits', '120')
    .option('--kubeconfig <path>', 'kubeconfig of the hub (default: $KUBECONFIG, ~/.kube/config or in-cluster)')
    .option('--context <name>', 'context of --kubeconfig to use')
    .action(async (name: string, flags: ReconcileFlags) => {
      const kube = flags.kubeconfig === undefined ? kubeFromDefault() : kubeFromFile(flags.kubeconfig, flags.context);
      try {
        await requestFetch(kube, flags.namespace, name, timestamp());
        process.stdout.write(`requested a fetch of GlobalService ${flags.namespace}/${name}\n`);
        if (!flags.wait) return;
        const service = await waitForFetch(kube, flags.namespace, name, Number(flags.timeout) * 1000);
        const ready = findCondition(service.status?.conditions, conditionTypes.Ready);
        process.stdout.write(
          `fetched ${service.status?.source?.revision ?? '(nothing)'}; Ready=${ready?.status ?? 'Unknown'} ${ready?.reason ?? ''}\n`,
        );
        if (ready?.status === 'False') process.exitCode = 1;
      } finally {
        kube.close();
      }
    });
}
