import { describe, expect, it } from '@jest/globals';
import { parseAddress } from './serve.js';

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
