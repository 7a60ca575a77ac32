import { describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Manifest, WorkPayload } from '../api/index.js';
import { decodeContent, DEFAULT_MAX_DATA_CHARS, encodeContent, encodeContentInSlices, type WorkContent } from './payload.js';
import { manifest } from './testing.js';

function realisticManifests(count: number): Manifest[] {
  return Array.from({ length: count }, (_, i) =>
    i % 3 === 0
      ? manifest('v1', 'ConfigMap', `settings-${i}`, `team-${i % 17}`, {
          metadata: { labels: { app: `svc-${i}`, 'app.kubernetes.io/part-of': 'shop' } },
          data: { 'application.yaml': `server:\n  port: ${8000 + i}\nfeature:\n  flags: [a, b, c${i}]\n`.repeat(4) },
        })
      : manifest('apps/v1', 'Deployment', `svc-${i}`, `team-${i % 17}`, {
          metadata: { labels: { app: `svc-${i}` }, annotations: { 'flotilla.dev/owner': `team-${i % 17}@example.com` } },
          spec: {
            replicas: (i % 5) + 1,
            selector: { matchLabels: { app: `svc-${i}` } },
            template: {
              metadata: { labels: { app: `svc-${i}` } },
              spec: {
                containers: [
                  {
                    name: 'app',
                    image: `registry.example.com/shop/svc-${i}:1.${i % 40}.${i % 7}`,
                    ports: [{ containerPort: 8080, name: 'http' }],
                    env: Array.from({ length: 6 }, (_, e) => ({ name: `VAR_${e}`, value: `value-${i}-${e}` })),
                    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
                    readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
                  },
                ],
              },
            },
          },
        }),
  );
}

function randomManifests(totalBytes: number): Manifest[] {
  const chunk = 256 * 1024;
  return Array.from({ length: Math.ceil(totalBytes / chunk) }, (_, i) =>
    manifest('v1', 'ConfigMap', `blob-${i}`, 'data', { binaryData: { blob: randomBytes(chunk).toString('base64') } }),
  );
}

const jsonSize = (manifests: Manifest[]): number => Buffer.byteLength(JSON.stringify(manifests));

function encoded(manifests: readonly Manifest[], options = {}): WorkContent[] {
  const result = encodeContent(manifests, options);
  if (!result.ok) throw new Error(result.message);
  return result.contents;
}

const payloadOf = (content: WorkContent | undefined): WorkPayload => {
  if (content?.payload === undefined) throw new Error('expected a payload');
  return content.payload;
};

/** A payload whose bytes are chosen by the test, with a correct digest. */
function handmadePayload(json: string): WorkContent {
  return {
    payload: {
      encoding: 'gzip',
      data: gzipSync(Buffer.from(json)).toString('base64'),
      sha256: createHash('sha256').update(json).digest('hex'),
    },
  };
}

describe('encodeContent', () => {
  it('keeps small content inline, as given', () => {
    const manifests = realisticManifests(3);
    expect(encoded(manifests)).toEqual([{ manifests }]);
  });

  it.each([
    ['no manifests (the schema wants at least one inline)', []],
    [
      'more than 1000 small manifests (the schema allows at most 1000 inline)',
      Array.from({ length: 1001 }, (_, i) => manifest('v1', 'ConfigMap', `c${i}`, 'x')),
    ],
    ['content over the inline limit', realisticManifests(500)],
  ])('compresses %s into one part', (_name, manifests) => {
    const contents = encoded(manifests);
    expect(contents).toHaveLength(1);
    expect(contents[0]).not.toHaveProperty('part');
    expect(payloadOf(contents[0]).encoding).toBe('gzip');
    expect(decodeContent(contents)).toEqual({ ok: true, manifests });
  });

  it('round-trips 4 MiB of realistic manifests, each part within budget', () => {
    const manifests = realisticManifests(6000);
    expect(jsonSize(manifests)).toBeGreaterThan(4 * 1024 * 1024);
    const contents = encoded(manifests);
    for (const content of contents) expect(payloadOf(content).data.length).toBeLessThanOrEqual(DEFAULT_MAX_DATA_CHARS);
    expect(decodeContent(contents)).toEqual({ ok: true, manifests });
  });

  it('splits 4 MiB of incompressible data into parts within budget and joins them', () => {
    const manifests = randomManifests(4 * 1024 * 1024);
    const contents = encoded(manifests);
    expect(contents.length).toBeGreaterThan(4);
    contents.forEach((content, index) => {
      expect(payloadOf(content).data.length).toBeLessThanOrEqual(DEFAULT_MAX_DATA_CHARS);
      expect(payloadOf(content).data).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
      expect(content).toHaveProperty('part', { index, count: contents.length });
    });
    expect(new Set(contents.map((c) => payloadOf(c).sha256)).size).toBe(1);
    expect(decodeContent(contents)).toEqual({ ok: true, manifests });
  });

  it('is deterministic, whatever the key order of its input', () => {
    const manifests = realisticManifests(400);
    const reordered = manifests.map((m) => Object.fromEntries(Object.entries(m).reverse()) as Manifest);
    expect(encoded(manifests, { maxDataChars: 4096 })).toEqual(encoded(manifests, { maxDataChars: 4096 }));
    expect(encoded(reordered, { maxDataChars: 4096 })).toEqual(encoded(manifests, { maxDataChars: 4096 }));
  });

  it('digests the decompressed JSON', () => {
    const payload = payloadOf(encoded(realisticManifests(500))[0]);
    const json = gunzipSync(Buffer.from(payload.data, 'base64'));
    expect(payload.sha256).toBe(createHash('sha256').update(json).digest('hex'));
  });

  it('refuses content that needs more parts than allowed', () => {
    const result = encodeContent(randomManifests(64 * 1024), { maxDataChars: 4096, maxParts: 4 });
    expect(result).toMatchObject({ ok: false, reason: 'TooLarge' });
    if (!result.ok) expect(result.message).toMatch(/needs \d+ parts; at most 4 are allowed/);
  });
});

describe('encodeContentInSlices', () => {
  it.each([
    ['small content, inline', () => realisticManifests(3), {}],
    ['content over the inline limit, in one part', () => realisticManifests(500), {}],
    ['incompressible content, in several parts', () => randomManifests(256 * 1024), { maxDataChars: 64 * 1024 }],
    ['content needing more parts than allowed', () => randomManifests(64 * 1024), { maxDataChars: 4096, maxParts: 4 }],
  ])('encodes %s exactly as encodeContent does', async (_name, make, options) => {
    const manifests = make();
    // An equal copy, so that neither call finds the other's encoding.
    expect(await encodeContentInSlices(manifests, options)).toEqual(encodeContent(structuredClone(manifests), options));
  });

  it('lets the event loop turn between manifests while it encodes', async () => {
    const manifests = realisticManifests(300);
    let turns = 0;
    let encoding = true;
    const tick = (): void => {
      turns++;
      if (encoding) setImmediate(tick);
    };
    setImmediate(tick);
    await encodeContentInSlices(manifests);
    encoding = false;
    expect(turns).toBeGreaterThanOrEqual(manifests.length);
  });
});

describe('encodings remembered by render', () => {
  it('encodes one manifests array once, whichever way it was first encoded', async () => {
    const sliced = realisticManifests(500);
    const first = await encodeContentInSlices(sliced);
    expect(encodeContent(sliced)).toBe(first);
    const whole = realisticManifests(500);
    const once = encodeContent(whole);
    expect(encodeContent(whole)).toBe(once);
    expect(await encodeContentInSlices(whole)).toBe(once);
  });

  it('keeps encodings with other options apart', () => {
    const manifests = randomManifests(64 * 1024);
    const parts = encoded(manifests, { maxDataChars: 8192 });
    expect(parts.length).toBeGreaterThan(1);
    expect(encoded(manifests)).toHaveLength(1);
    expect(encoded(manifests, { maxDataChars: 8192 })).toBe(parts);
  });
});

describe('decodeContent', () => {
  const manifests = randomManifests(40 * 1024);
  const parts = encoded(manifests, { maxDataChars: 8192 });
  const otherParts = encoded(randomManifests(40 * 1024), { maxDataChars: 8192 });

  it('has more than three parts to play with', () => {
    expect(parts.length).toBeGreaterThan(3);
  });

  it('joins parts given in any order, and tolerates a repeated identical part', () => {
    expect(decodeContent([...parts].reverse())).toEqual({ ok: true, manifests });
    expect(decodeContent([...parts, parts[1] as WorkContent])).toEqual({ ok: true, manifests });
  });

  it.each<[string, () => WorkContent[], string, RegExp, number[] | undefined]>([
    ['nothing', () => [], 'NoContent', /no Work content/, undefined],
    ['missing parts', () => parts.filter((_, i) => i !== 1 && i !== 3), 'MissingParts', /^2 of \d+ parts missing: 1, 3$/, [1, 3]],
    [
      'only the last part',
      () => parts.slice(-1),
      'MissingParts',
      /parts missing: 0, 1, 2/,
      Array.from({ length: parts.length - 1 }, (_, i) => i),
    ],
    ['parts of two contents', () => [...parts.slice(0, 2), ...otherParts.slice(2)], 'MixedContent', /different contents/, undefined],
    ['inline and payload together', () => [{ manifests }, ...parts], 'MixedContent', /1 inline and \d+ payload/, undefined],
    ['two inline contents', () => [{ manifests }, { manifests }], 'MixedContent', /2 inline and 0 payload/, undefined],
    [
      'parts disagreeing on the count',
      () => parts.map((p, i) => (i === 0 ? { ...p, part: { index: 0, count: 99 } } : p)),
      'InvalidPart',
      /disagree on the part count/,
      undefined,
    ],
    [
      'an index out of range',
      () => [{ ...(parts[0] as WorkContent), part: { index: 7, count: 2 } }],
      'InvalidPart',
      /outside 0\.\.1/,
      undefined,
    ],
    [
      'one index with two different data',
      () => [...parts, { ...(parts[0] as WorkContent), payload: { ...payloadOf(parts[0]), data: payloadOf(parts[1]).data } }],
      'InvalidPart',
      /part 0 appears twice with different data/,
      undefined,
    ],
    [
      'a Work with both manifests and a payload',
      () => [{ ...(parts[0] as WorkContent), manifests }],
      'InvalidPart',
      /exactly one of manifests or payload/,
      undefined,
    ],
    ['a Work with neither', () => [{}], 'InvalidPart', /exactly one of manifests or payload/, undefined],
    [
      'parts swapped between indexes',
      () => parts.map((p, i) => ({ ...p, part: { index: (i + 1) % parts.length, count: parts.length } })),
      'Corrupt',
      /does not decompress/,
      undefined,
    ],
    [
      'a wrong digest',
      () => parts.map((p) => ({ ...p, payload: { ...payloadOf(p), sha256: '0'.repeat(64) } })),
      'DigestMismatch',
      /expected 000000000000/,
      undefined,
    ],
    [
      'bytes that are not gzip',
      () => [{ payload: { encoding: 'gzip', data: 'aGVsbG8=', sha256: '0'.repeat(64) } }],
      'Corrupt',
      /does not decompress/,
      undefined,
    ],
    ['JSON that is not a list of objects', () => [handmadePayload('{"a":1}')], 'Corrupt', /not a list of Kubernetes objects/, undefined],
    [
      'a list with a non-object',
      () => [handmadePayload('[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}, 3]')],
      'Corrupt',
      /not a list/,
      undefined,
    ],
    [
      'a manifest without a name',
      () => [handmadePayload('[{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}]')],
      'Corrupt',
      /not a list/,
      undefined,
    ],
    ['text that is not JSON', () => [handmadePayload('not json')], 'Corrupt', /not JSON/, undefined],
  ])('reports %s', (_name, contents, reason, message, missing) => {
    const result = decodeContent(contents());
    expect(result).toMatchObject({ ok: false, reason });
    if (!result.ok) {
      expect(result.message).toMatch(message);
      expect(result.missing).toEqual(missing);
    }
  });

  it('refuses to inflate past its limit', () => {
    const bomb = handmadePayload(
      `[${'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}},'.repeat(20000)}{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}]`,
    );
    expect(decodeContent([bomb], { maxDecodedBytes: 64 * 1024 })).toMatchObject({ ok: false, reason: 'TooLarge' });
    expect(decodeContent([bomb])).toMatchObject({ ok: true });
  });
});
