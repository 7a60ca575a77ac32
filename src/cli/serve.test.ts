import { describe, expect, it } from '@jest/globals';
import { parseAddress, serveUntilStopped } from './serve.js';

describe('parseAddress', () => {
  it.each<[string, { host: string; port: number }]>([
    ['127.0.0.1:8082', { host: '127.0.0.1', port: 8082 }],
    [':8081', { host: '0.0.0.0', port: 8081 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    ['[::]:65535', { host: '::', port: 65535 }],
  ])('reads %s', (text, address) => {
    expect(parseAddress('--health-address', text)).toEqual(address);
  });

  it.each([['8081'], ['127.0.0.1:'], ['127.0.0.1:http'], ['127.0.0.1:65536'], ['127.0.0.1:-1'], ['127.0.0.1:80.5'], ['']])(
    'refuses %p, naming the flag and the value',
    (text) => {
      expect(() => parseAddress('--health-address', text)).toThrow(
        `--health-address must be HOST:PORT (127.0.0.1:PORT for this machine only, :PORT for every interface), not ${text}`,
      );
    },
  );
});

describe('serveUntilStopped', () => {
  /** A serve that rejects once its signal aborts, as every request in flight at a stop does. */
  const untilAborted = (signal: AbortSignal): Promise<string> =>
    new Promise((_, reject) => {
      signal.addEventListener(
        'abort',
        () => {
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });

  it('is a clean stop when a shutdown rejects what serve had in flight, even while it was starting', async () => {
    const shutdown = new AbortController();
    const served = serveUntilStopped(untilAborted, 'stopped', shutdown.signal);
    shutdown.abort(new Error('received SIGTERM'));
    await expect(served).resolves.toBe('stopped');
  });

  it("passes serve's own result on", async () => {
    await expect(serveUntilStopped(() => Promise.resolve('lost'), 'stopped', new AbortController().signal)).resolves.toBe('lost');
  });

  it('passes a failure on and aborts what serve started with it', async () => {
    let started: AbortSignal | undefined;
    const failure = new Error('listen EADDRINUSE');
    const served = serveUntilStopped(
      (signal) => {
        started = signal;
        return Promise.reject(failure);
      },
      'stopped',
      new AbortController().signal,
    );
    await expect(served).rejects.toBe(failure);
    expect({ aborted: started?.aborted, reason: started?.reason as unknown }).toEqual({ aborted: true, reason: failure });
  });
});
