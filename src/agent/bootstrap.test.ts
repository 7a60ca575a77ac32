import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import type { KubeObject } from '../runtime/index.js';
import {
  agentServiceAccountOf,
  bootstrapData,
  bootstrapObjects,
  parseBootstrap,
  renderBootstrap,
  type HubCredentials,
} from './bootstrap.js';

const credentials: HubCredentials = {
  cluster: 'edge-1',
  fleet: 'prod',
  server: 'https://127.0.0.1:6443',
  caData: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  token: 'header.payload.signature',
  memberUID: '0f8fad5b-d9cb-469f-a165-70867728950e',
};

/** Credentials as a bootstrap written before identities were per join holds them. */
function olderCredentials(): HubCredentials {
  const older = { ...credentials };
  delete older.memberUID;
  return older;
}

describe('bootstrap', () => {
  it('renders the agent namespace and a Secret in it, ready for kubectl apply', () => {
    const docs = renderBootstrap(credentials)
      .split('---\n')
      .map((doc) => yaml.load(doc) as KubeObject);
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace ?? ''}/${d.metadata.name ?? ''}`)).toEqual([
      'Namespace /flotilla-system',
      'Secret flotilla-system/flotilla-agent-bootstrap',
    ]);
    expect(docs[1]?.type).toBe('Opaque');
  });

  it('holds a kubeconfig for the hub that parses back to the same credentials', () => {
    const secret = bootstrapObjects(credentials)[1];
    if (!secret) throw new Error('no secret');
    expect(parseBootstrap(secret)).toEqual(credentials);
    const kubeconfig = yaml.load(Buffer.from((secret.data as Record<string, string>).kubeconfig ?? '', 'base64').toString()) as Record<
      string,
      unknown
    >;
    expect(kubeconfig).toMatchObject({
      kind: 'Config',
      'current-context': 'flotilla-hub-edge-1',
      clusters: [{ cluster: { server: 'https://127.0.0.1:6443' } }],
      users: [{ user: { token: 'header.payload.signature' } }],
    });
  });

  it('says what is missing without echoing secret values', () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { cluster: Buffer.from('x').toString('base64') },
    };
    expect(() => parseBootstrap(secret)).toThrow('bootstrap Secret has no kubeconfig');
    const noToken = bootstrapObjects({ ...credentials, token: '' })[1];
    if (!noToken) throw new Error('no secret');
    expect(() => parseBootstrap(noToken)).toThrow('needs a server, certificate-authority-data and a token');
  });

  it("keeps the MemberCluster's uid, and still reads a Secret written before it was kept", () => {
    const secret = (data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data });
    expect(Buffer.from(bootstrapData(credentials).memberUID ?? '', 'base64').toString()).toBe(credentials.memberUID);
    const older = olderCredentials();
    const { memberUID: absent, ...olderData } = bootstrapData(older);
    expect(absent).toBeUndefined();
    expect(parseBootstrap(secret(olderData))).toEqual(older);
    expect(parseBootstrap(secret({ ...olderData, memberUID: '' }))).toEqual(older);
  });
});

describe('agentServiceAccountOf', () => {
  it.each<[string, HubCredentials, string]>([
    ['the ServiceAccount of the join it records', credentials, 'flotilla-agent-0f8fad5b-d9cb-469f-a165-70867728950e'],
  ])('names %s', (_what, given, name) => {
    expect(agentServiceAccountOf(given)).toBe(name);
  });

  it('asks for a new join when the bootstrap predates per-join identities', () => {
    expect(() => agentServiceAccountOf(olderCredentials())).toThrow(
      "the bootstrap Secret of edge-1 has no memberUID, so it does not name the agent's ServiceAccount; run `flotilla join edge-1` again",
    );
  });
});
