import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { createLogger, redact } from './log.js';

describe('logs', () => {
  it('redacts secret-looking fields and reduces whole objects to their kind and key', () => {
    expect(
      redact({
        name: 'a',
        token: 'abc',
        bearerToken: 'x',
        password: 'p',
        kubeconfig: 'k',
        count: 3,
        object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns' }, data: { key: 'c2VjcmV0' } },
      }),
    ).toEqual({
      name: 'a',
      token: '[redacted]',
      bearerToken: '[redacted]',
      password: '[redacted]',
      kubeconfig: '[redacted]',
      count: 3,
      object: 'Secret ns/s',
    });
  });

  it('writes one JSON line per entry with the structured fields', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    const logger = createLogger({ component: 'test', stream });
    logger
      .child({ controller: 'work', kind: 'Work', namespace: 'ns', name: 'w', reconcileID: 'r1' })
      .info('reconciled the Work', { token: 't' });
    await new Promise((r) => setImmediate(r));
    const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: 'info',
      message: 'reconciled the Work',
      component: 'test',
      controller: 'work',
      kind: 'Work',
      namespace: 'ns',
      name: 'w',
      reconcileID: 'r1',
      token: '[redacted]',
    });
    expect(typeof entry.timestamp).toBe('string');
  });
});
