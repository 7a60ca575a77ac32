import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Manifest } from '../../src/api/index.js';
import { LOCAL_COPY_LABEL } from '../../src/agent/local-copy.js';
import { eventually, uniqueName } from '../framework/index.js';
import { condition, readWork, registerMember, runAgent, unregisterMember, writeWork, type Member, type RunningAgent } from './harness.js';

describe('the Work agent with content larger than one object', () => {
  let member: Member;
  let running: RunningAgent;
  const ns = uniqueName('big');

  beforeAll(async () => {
    member = await registerMember('spoke-2');
    running = await runAgent(member);
  });
  afterAll(async () => {
    await running.stop();
    await member.spokeAdmin.delete({ apiVersion: 'v1', kind: 'Namespace' }, ns).catch(() => undefined);
    await unregisterMember(member);
  });

  it('applies 4 MiB of manifests split across several Works', async () => {
    // 64 ConfigMaps of 64 KiB of hex: compresses only to about half, so it needs several parts.
    const manifests: Manifest[] = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      ...Array.from({ length: 64 }, (_, i): Manifest => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `blob-${i}`, namespace: ns },
        data: { blob: randomBytes(32 * 1024).toString('hex') },
      })),
    ];
    expect(Buffer.byteLength(JSON.stringify(manifests))).toBeGreaterThan(4 * 1024 * 1024);
    const works = await writeWork(member, 'big', manifests);
    expect(works.length).toBeGreaterThan(1);
    await eventually(
      async () => {
        for (const work of works) {
          const current = await readWork(member, work.metadata.name ?? '');
          expect(condition(current, 'Applied')).toBe('True');
          expect(current.status?.counts?.applied).toBe(65);
        }
      },
      { timeoutMs: 60_000 },
    );
    const live = await member.spokeAdmin.list(
      { apiVersion: 'v1', kind: 'ConfigMap' },
      { namespace: ns, labelSelector: 'flotilla.dev/work' },
    );
    const byName = new Map(live.items.map((c) => [c.metadata.name, c.data]));
    for (const manifest of manifests.slice(1)) expect(byName.get(manifest.metadata.name)).toEqual(manifest.data);
    // The local copy is split as well: no Secret holds more than the apiserver allows.
    const copies = await member.spokeAdmin.list(
      { apiVersion: 'v1', kind: 'Secret' },
      { namespace: member.systemNamespace, labelSelector: LOCAL_COPY_LABEL },
    );
    expect(copies.items.length).toBeGreaterThan(1);
  });
});
