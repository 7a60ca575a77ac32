import { describe, expect, it } from '@jest/globals';
import { KubeApiError, type Kube, type KubeObject } from '../runtime/index.js';
import { bearerToken, bearerViewer, createFleetAccess, decisionKey, decisionOf, fleetAccessReview, type Viewer } from './access.js';

describe('bearerToken', () => {
  it.each<[string | undefined, string | undefined]>([
    ['Bearer abc.def', 'abc.def'],
    ['bearer abc', 'abc'],
    ['Basic dXNlcjpwYXNz', undefined],
    ['Bearer ', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ])('%s', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe('bearerViewer (who a request is with --viewer-tokens, or why it gets 401)', () => {
  it.each<[string, Record<string, string | undefined>, { token: string } | RegExp]>([
    ['a bearer token', { authorization: 'Bearer abc' }, { token: 'abc' }],
    [
      'a bearer token beside proxy headers: the token is who it is',
      { authorization: 'Bearer abc', 'x-remote-user': 'alice' },
      { token: 'abc' },
    ],
    ['nothing', {}, /^send the viewer's credentials as "Authorization: Bearer TOKEN"$/],
    ['Basic credentials', { authorization: 'Basic dXNlcjpwYXNz' }, /Authorization: Bearer TOKEN/],
    [
      'X-Remote-User and X-Remote-Group only: names, no credentials',
      { 'x-remote-user': 'alice', 'x-remote-group': 'devs' },
      /^x-remote-user, x-remote-group name a user but carry no credentials: .*no right to impersonate.*--pass-authorization-header/,
    ],
    ["oauth2-proxy's X-Forwarded-User only", { 'x-forwarded-user': 'alice' }, /^x-forwarded-user name a user but carry no credentials/],
  ])('%s', (_name, headers, expected) => {
    const who = bearerViewer(headers);
    if (expected instanceof RegExp) expect('refused' in who ? who.refused : '').toMatch(expected);
    else expect(who).toEqual({ viewer: { kind: 'bearer', token: expected.token } });
  });
});

describe('decisionOf', () => {
  const review = (allowed: boolean | undefined): KubeObject => ({
    apiVersion: 'v1',
    kind: 'SelfSubjectAccessReview',
    metadata: {},
    status: allowed === undefined ? {} : { allowed },
  });
  it.each<[string, Parameters<typeof decisionOf>[0], string]>([
    ['allowed', { review: review(true) }, 'allowed'],
    ['denied', { review: review(false) }, 'denied'],
    ['no answer is no', { review: review(undefined) }, 'denied'],
    [
      '401: the token is not valid',
      { error: new KubeApiError({ code: 401, reason: 'Unauthorized', message: 'm', method: 'POST', path: '/x' }) },
      'unauthenticated',
    ],
  ])('%s', (_name, outcome, decision) => {
    expect(decisionOf(outcome)).toBe(decision);
  });
  it('passes other failures on (the request fails rather than showing nothing as if denied)', () => {
    expect(() =>
      decisionOf({ error: new KubeApiError({ code: 500, reason: 'InternalError', message: 'm', method: 'POST', path: '/x' }) }),
    ).toThrow();
  });
});

describe('fleetAccessReview', () => {
  it('asks whether the viewer may list GlobalServices in the workspace', () => {
    expect(fleetAccessReview('fleet-a').spec).toEqual({
      resourceAttributes: { namespace: 'fleet-a', verb: 'list', group: 'flotilla.dev', resource: 'globalservices' },
    });
  });
});

describe('decisionKey', () => {
  it('holds a digest of the token, never the token', () => {
    const key = decisionKey({ kind: 'bearer', token: 'secret-token' }, 'fleet-a');
    expect(key).not.toContain('secret-token');
    expect(key).toMatch(/^[0-9a-f]{64}\|fleet-a$/);
  });
});

describe('createFleetAccess', () => {
  // An apiserver stand-in for the review client: answers from a table, counts the reviews asked.
  function reviewer(allowed: Record<string, Record<string, boolean>>): {
    clientFor: (v: Viewer) => { kube: Kube; close: () => void };
    asked: () => number;
  } {
    let asked = 0;
    return {
      asked: () => asked,
      clientFor: (viewer) => ({
        close: () => undefined,
        kube: {
          create: (object: KubeObject) => {
            asked++;
            const token = viewer.kind === 'bearer' ? viewer.token : 'local';
            const namespace = (object.spec as { resourceAttributes: { namespace: string } }).resourceAttributes.namespace;
            if (!(token in allowed))
              return Promise.reject(new KubeApiError({ code: 401, reason: 'Unauthorized', message: 'm', method: 'POST', path: '/x' }));
            return Promise.resolve({ ...object, status: { allowed: allowed[token]?.[namespace] === true } });
          },
        } as unknown as Kube,
      }),
    };
  }
  const fleets = new Map([
    ['a', 'fleet-a'],
    ['b', 'fleet-b'],
  ]);

  it('shows each viewer only the fleets it may list, and reuses decisions until they expire', async () => {
    let now = 0;
    const api = reviewer({ alice: { 'fleet-a': true }, bob: { 'fleet-b': true } });
    const access = createFleetAccess({ clientFor: api.clientFor, ttlMs: 10_000, now: () => now });
    expect(await access.visibleFleets({ kind: 'bearer', token: 'alice' }, fleets)).toEqual(new Set(['a']));
    expect(await access.visibleFleets({ kind: 'bearer', token: 'bob' }, fleets)).toEqual(new Set(['b']));
    expect(api.asked()).toBe(4);
    await access.visibleFleets({ kind: 'bearer', token: 'alice' }, fleets);
    expect(api.asked()).toBe(4);
    now = 10_001;
    await access.visibleFleets({ kind: 'bearer', token: 'alice' }, fleets);
    expect(api.asked()).toBe(6);
  });

  it('answers unauthenticated for a token the apiserver does not accept', async () => {
    const access = createFleetAccess({ clientFor: reviewer({}).clientFor, ttlMs: 10_000 });
    expect(await access.visibleFleets({ kind: 'bearer', token: 'forged' }, fleets)).toBe('unauthenticated');
  });
});
