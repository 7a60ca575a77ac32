import { describe, expect, it } from '@jest/globals';
import {
  errorFromResponse,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNotFound,
  isTooManyRequests,
  objectKey,
  splitApiVersion,
  splitKey,
} from './kube.js';

describe('errorFromResponse', () => {
  it('parses a Status body into code, reason, message and causes', () => {
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      code: 422,
      reason: 'Invalid',
      message: 'Widget.x "w" is invalid: spec.size: Invalid value: 1000: must be <= 100',
      details: { causes: [{ reason: 'FieldValueInvalid', field: 'spec.size', message: 'Invalid value: 1000' }] },
    });
    const error = errorFromResponse('PATCH', '/apis/x/v1/widgets/w', 422, body);
    expect(error).toMatchObject({ code: 422, reason: 'Invalid', method: 'PATCH' });
    expect(error.apiMessage).toContain('spec.size');
    expect(error.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.size', message: 'Invalid value: 1000' }]);
    expect(error.message).toBe(`PATCH /apis/x/v1/widgets/w: 422 Invalid: ${error.apiMessage}`);
    expect(isInvalid(error)).toBe(true);
  });

  it('keeps the HTTP code and a default reason when the body is not a Status', () => {
    const error = errorFromResponse('GET', '/api/v1/pods', 503, '<html>bad gateway</html>', '7');
    expect(error).toMatchObject({ code: 503, reason: 'ServiceUnavailable', apiMessage: '<html>bad gateway</html>', retryAfterSeconds: 7 });
    expect(errorFromResponse('GET', '/x', 401, '').apiMessage).toBe('Unauthorized');
    expect(errorFromResponse('GET', '/x', 599, '').reason).toBe('Unknown');
  });

  it('prefers the Status retryAfterSeconds over the header', () => {
    const body = JSON.stringify({
      kind: 'Status',
      code: 429,
      reason: 'TooManyRequests',
      message: 'slow down',
      details: { retryAfterSeconds: 3 },
    });
    const error = errorFromResponse('GET', '/x', 429, body, '9');
    expect(error.retryAfterSeconds).toBe(3);
    expect(isTooManyRequests(error)).toBe(true);
  });

  it.each([
    [404, 'NotFound', { isNotFound: true }],
    [409, 'Conflict', { isConflict: true }],
    [409, 'AlreadyExists', { isAlreadyExists: true }],
    [403, 'Forbidden', { isForbidden: true }],
    [410, 'Gone', { isGone: true }],
    [410, 'Expired', { isGone: true }],
    [500, 'Expired', { isGone: true }], // a watch ERROR event can say Expired with another code
    [422, 'Invalid', { isInvalid: true }],
  ])('classifies %i %s', (code, reason, expected) => {
    const error = errorFromResponse('GET', '/x', code, JSON.stringify({ kind: 'Status', code, reason, message: 'm' }));
    const actual = {
      isNotFound: isNotFound(error),
      isConflict: isConflict(error),
      isAlreadyExists: isAlreadyExists(error),
      isForbidden: isForbidden(error),
      isGone: isGone(error),
      isInvalid: isInvalid(error),
    };
    const all = { isNotFound: false, isConflict: false, isAlreadyExists: false, isForbidden: false, isGone: false, isInvalid: false };
    expect(actual).toEqual({ ...all, ...expected });
  });

  it('classifies non-API errors as none of them', () => {
    const plain = new Error('ECONNREFUSED');
    expect([isNotFound(plain), isConflict(plain), isGone(plain), isForbidden(plain)]).toEqual([false, false, false, false]);
  });
});

describe('names', () => {
  it('splits apiVersions into group and version', () => {
    expect(splitApiVersion('v1')).toEqual(['', 'v1']);
    expect(splitApiVersion('coordination.k8s.io/v1')).toEqual(['coordination.k8s.io', 'v1']);
  });

  it('keys objects as namespace/name, or name when cluster-scoped, and splits keys back', () => {
    expect(objectKey({ metadata: { name: 'a', namespace: 'ns' } })).toBe('ns/a');
    expect(objectKey({ metadata: { name: 'a' } })).toBe('a');
    expect(splitKey('ns/a')).toEqual({ namespace: 'ns', name: 'a' });
    expect(splitKey('a')).toEqual({ namespace: undefined, name: 'a' });
  });
});
