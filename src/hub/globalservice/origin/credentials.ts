// An origin's credentials from the Secret its secretRef names (in the service's own workspace
// namespace: the hub reads no other). The keys, as Flux's and Argo CD's are: username + password,
// bearerToken, identity (an SSH private key) + known_hosts, and ca.crt with any of them. Pure; the
// values never leave the OriginCredentials they are read into (see src/hub/origin/tool.ts scrub).
import type { KubeObject } from '../../../runtime/index.js';
import type { OriginCredentials } from '../../origin/types.js';

export type CredentialsResult = { ok: true; credentials: OriginCredentials } | { ok: false; message: string };

const KEYS = {
  username: 'username',
  password: 'password',
  bearerToken: 'bearerToken',
  sshPrivateKey: 'identity',
  knownHosts: 'known_hosts',
  caCert: 'ca.crt',
} as const satisfies Record<keyof OriginCredentials, string>;

/** `secret` as read for `secretName` (undefined: not found). A message names the Secret and key, never a value. */
export function originCredentials(secretName: string, secret: KubeObject | undefined): CredentialsResult {
  if (!secret) return { ok: false, message: `Secret ${secretName} (spec.source secretRef) not found in the workspace namespace` };
  const data = (secret as { data?: Record<string, string> }).data ?? {};
  const credentials: OriginCredentials = {};
  for (const [field, key] of Object.entries(KEYS) as [keyof OriginCredentials, string][]) {
    const encoded = data[key];
    if (encoded === undefined) continue;
    const value = Buffer.from(encoded, 'base64').toString('utf8');
    if (value !== '') credentials[field] = value;
  }
  if ((credentials.username === undefined) !== (credentials.password === undefined)) {
    return { ok: false, message: `Secret ${secretName} must hold both username and password, or neither` };
  }
  if (credentials.sshPrivateKey !== undefined && credentials.knownHosts === undefined) {
    return { ok: false, message: `Secret ${secretName} holds an identity but no known_hosts: the ssh server could not be verified` };
  }
  if (Object.keys(credentials).length === 0) {
    return { ok: false, message: `Secret ${secretName} has none of the keys username/password, bearerToken, identity/known_hosts, ca.crt` };
  }
  return { ok: true, credentials };
}
