// The agent's bootstrap: what `flotilla join` emits for the spoke and the agent reads back at start
// (and rewrites when it rotates its token). A Secret in the spoke's flotilla-system namespace holds
// a kubeconfig for the hub with the agent's own short-lived ServiceAccount token, plus the cluster's
// name and the uid of the MemberCluster it joined as. Pure: rendering and parsing only.
import yaml from 'js-yaml';
import { agentServiceAccount, flotillaNamespace, managedBy } from '../api/index.js';
import { isRecord, type KubeObject } from '../runtime/index.js';

export const bootstrapSecretName = 'flotilla-agent-bootstrap';
export const bootstrapSecretType = { apiVersion: 'v1', kind: 'Secret' } as const;

/** What the agent needs to reach the hub as itself. */
export interface HubCredentials {
  cluster: string;
  fleet: string;
  /** The hub apiserver's URL as the spoke reaches it. */
  server: string;
  /** PEM CA bundle of the hub apiserver. */
  caData: string;
  token: string;
  /**
   * The MemberCluster's metadata.uid when it joined: its identity, which names the agent's
   * ServiceAccount. Absent in a bootstrap written before identities were per join.
   */
  memberUID?: string;
}

/** The agent's own ServiceAccount on the hub, the one it requests its tokens for. */
export function agentServiceAccountOf(credentials: HubCredentials): string {
  if (credentials.memberUID === undefined) {
    throw new Error(
      `the bootstrap Secret of ${credentials.cluster} has no memberUID, so it does not name the agent's ServiceAccount; run \`flotilla join ${credentials.cluster}\` again`,
    );
  }
  return agentServiceAccount(credentials.memberUID);
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string): string => Buffer.from(text, 'base64').toString('utf8');

/** A kubeconfig for the hub that authenticates with the agent's token. */
export function renderKubeconfig(credentials: HubCredentials): string {
  const name = `flotilla-hub-${credentials.cluster}`;
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'hub', cluster: { server: credentials.server, 'certificate-authority-data': b64(credentials.caData) } }],
    users: [{ name, user: { token: credentials.token } }],
    contexts: [{ name, context: { cluster: 'hub', user: name } }],
    'current-context': name,
  });
}

/** The Secret's data (base64, as the apiserver stores it). */
export function bootstrapData(credentials: HubCredentials): Record<string, string> {
  return {
    cluster: b64(credentials.cluster),
    fleet: b64(credentials.fleet),
    kubeconfig: b64(renderKubeconfig(credentials)),
    ...(credentials.memberUID !== undefined ? { memberUID: b64(credentials.memberUID) } : {}),
  };
}

/** The spoke-side objects, in apply order: the agent's namespace and its bootstrap Secret. */
export function bootstrapObjects(credentials: HubCredentials): KubeObject[] {
  const labels = { ...managedBy, 'app.kubernetes.io/component': 'agent' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: flotillaNamespace, labels } },
    {
      ...bootstrapSecretType,
      metadata: { name: bootstrapSecretName, namespace: flotillaNamespace, labels },
      type: 'Opaque',
      data: bootstrapData(credentials),
    },
  ];
}

/** Multi-document YAML, ready for `kubectl apply -f -`. */
export function renderBootstrap(credentials: HubCredentials): string {
  return bootstrapObjects(credentials)
    .map((object) => yaml.dump(object))
    .join('---\n');
}

/** The flotilla-agent chart's values carrying the same bootstrap (`flotilla join --output-format helm-values`). */
export function renderHelmValues(credentials: HubCredentials): string {
  return yaml.dump({ bootstrap: { data: bootstrapData(credentials) } });
}

function firstNamed(list: unknown, key: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry: unknown = list[0];
  if (!isRecord(entry)) return undefined;
  const inner = entry[key];
  return isRecord(inner) ? inner : undefined;
}

/** Reads a bootstrap Secret back; throws with what is missing, never with the secret values. */
export function parseBootstrap(secret: KubeObject): HubCredentials {
  const data = isRecord(secret.data) ? secret.data : {};
  const text = (key: string): string => {
    const value = data[key];
    if (typeof value !== 'string' || value === '') throw new Error(`bootstrap Secret has no ${key}`);
    return unb64(value);
  };
  const config = yaml.load(text('kubeconfig'));
  const cluster = firstNamed(isRecord(config) ? config.clusters : undefined, 'cluster');
  const user = firstNamed(isRecord(config) ? config.users : undefined, 'user');
  const server = cluster?.server;
  const ca = cluster?.['certificate-authority-data'];
  const token = user?.token;
  if (typeof server !== 'string' || typeof ca !== 'string' || typeof token !== 'string' || server === '' || token === '') {
    throw new Error('bootstrap kubeconfig needs a server, certificate-authority-data and a token');
  }
  const memberUID = data.memberUID;
  return {
    cluster: text('cluster'),
    fleet: text('fleet'),
    server,
    caData: unb64(ca),
    token,
    ...(typeof memberUID === 'string' && memberUID !== '' ? { memberUID: unb64(memberUID) } : {}),
  };
}
