import { describe, expect, it } from '@jest/globals';
import { originCredentials } from './credentials.js';

const secret = (data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'git-auth', namespace: 'fleet-a' },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

describe('originCredentials', () => {
  it.each([
    ['basic auth', { username: 'bot', password: 's3cret' }, { username: 'bot', password: 's3cret' }],
    ['a bearer token and a CA', { bearerToken: 'tok', 'ca.crt': 'PEM' }, { bearerToken: 'tok', caCert: 'PEM' }],
    [
      'an ssh key with known_hosts',
      { identity: 'KEY', known_hosts: 'host ssh-ed25519 AAA' },
      { sshPrivateKey: 'KEY', knownHosts: 'host ssh-ed25519 AAA' },
    ],
    ['a CA alone (a public repository behind a private CA)', { 'ca.crt': 'PEM' }, { caCert: 'PEM' }],
  ])('reads %s', (_, data, expected) => {
    expect(originCredentials('git-auth', secret(data))).toEqual({ ok: true, credentials: expected });
  });

  it.each([
    ['a missing Secret', undefined, 'Secret git-auth (spec.source secretRef) not found in the workspace namespace'],
    ['a password without a user', secret({ password: 's3cret' }), 'Secret git-auth must hold both username and password, or neither'],
    ['an ssh key no host can be checked against', secret({ identity: 'KEY' }), 'holds an identity but no known_hosts'],
    ['no known key', secret({ token: 'x' }), 'has none of the keys'],
  ])('refuses %s, naming the Secret and never a value', (_, object, message) => {
    const result = originCredentials('git-auth', object);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain(message);
    expect(result.message).not.toContain('s3cret');
    expect(result.message).not.toContain('KEY');
  });
});
