import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { annotations, apiVersion, type GlobalService } from '../../../api/index.js';
import type { KubeObject } from '../../../runtime/index.js';
import { createLruCache } from '../../../runtime/lru.js';
import { createOriginEngine } from '../../origin/origin.js';
import { testToolPaths } from '../../origin/testdata/tools.js';
import type { RenderResult } from '../render/render.js';
import { originContent, type OriginReaders, type OriginSources } from './content.js';

// originContent against the real origin engine. The origin here is a chart repository nobody
// listens on, so every fetch fails at once (SourceUnavailable) without reaching a tool.

let cacheDir: string;
let sources: OriginSources;
const readers: OriginReaders = {
  secret: () => Promise.resolve(undefined),
  configMap: () => undefined,
  member: () => undefined,
  renders: createLruCache<RenderResult>(16),
  signal: new AbortController().signal,
};
const service = (request: string, status: GlobalService['status'] = {}): GlobalService & KubeObject => ({
  apiVersion,
  kind: 'GlobalService',
  metadata: { name: 'web', namespace: 'fleet-a', annotations: { [annotations.requestedAt]: request } },
  spec: {
    placement: { clusterNames: ['paris'] },
    source: { helm: { repoURL: 'https://127.0.0.1:1/charts', chart: 'web' } },
  },
  status,
});

beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'flotilla-content-test-'));
  const engine = await createOriginEngine({ cacheDir, tools: await testToolPaths(), policy: { allowLocal: false, allowInsecure: false } });
  sources = { engine, records: new Map() };
});
afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

describe('originContent', () => {
  it('reports the request its last fetch answered, even when the service in the cache predates that status', async () => {
    const first = await originContent(sources, readers, service('2026-01-01T10:00:00Z'));
    expect(first).toMatchObject({ ok: false, lastHandledRequest: '2026-01-01T10:00:00Z' });
    // The next reconcile sees the service as it was before the first one's status write.
    const next = await originContent(sources, readers, service('2026-01-01T10:00:00Z', { lastHandledRequest: '2025-12-31T09:00:00Z' }));
    expect(next).toMatchObject({ ok: false, lastHandledRequest: '2026-01-01T10:00:00Z' });
    expect(next.ok ? undefined : next.unavailable).toContain('127.0.0.1:1');
  });
});
