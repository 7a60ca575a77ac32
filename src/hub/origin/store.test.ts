import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createArtifactStore } from './store.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'flotilla-store-test-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const writeMarker = (text: string) => async (dir: string) => {
  await writeFile(path.join(dir, 'marker'), text);
};

describe('createArtifactStore', () => {
  it('builds an entry once for concurrent callers and serves it afterwards', async () => {
    const store = await createArtifactStore(root, { spare: 4 });
    let builds = 0;
    const build = async (dir: string): Promise<void> => {
      builds += 1;
      await writeMarker('one')(dir);
    };
    const dirs = await Promise.all([store.ensure('k', build), store.ensure('k', build), store.ensure('k', build)]);
    const [dir] = dirs;
    expect(new Set(dirs).size).toBe(1);
    expect(builds).toBe(1);
    expect(await readFile(path.join(dir, 'marker'), 'utf8')).toBe('one');
    expect(await store.get('k')).toBe(dir);
  });

  it('leaves nothing behind when a build fails, and builds again next time', async () => {
    const store = await createArtifactStore(root, { spare: 4 });
    await expect(
      store.ensure('k', async (dir) => {
        await writeMarker('half')(dir);
        throw new Error('network down');
      }),
    ).rejects.toThrow('network down');
    expect(await store.get('k')).toBeUndefined();
    expect(await readdir(path.join(root, 'staging'))).toEqual([]);
    const dir = await store.ensure('k', writeMarker('whole'));
    expect(await readFile(path.join(dir, 'marker'), 'utf8')).toBe('whole');
  });

  it('keeps held entries and the most recently used spares, and removes older ones from disk', async () => {
    const store = await createArtifactStore(root, { spare: 1 });
    const held = await store.ensure('held', writeMarker('h'));
    await store.hold('service-a', 'held');
    const old = await store.ensure('old', writeMarker('o'));
    await store.ensure('new', writeMarker('n'));
    expect(await store.get('old')).toBeUndefined();
    await expect(readdir(old)).rejects.toThrow('ENOENT');
    expect(await store.get('held')).toBe(held);
    expect(await store.get('new')).toBeDefined();
    await store.release('service-a');
    await store.ensure('newest', writeMarker('x'));
    expect(store.size).toBe(1);
    expect(await store.get('newest')).toBeDefined();
  });

  it('starts empty: what an earlier process left is never served', async () => {
    const first = await createArtifactStore(root, { spare: 4 });
    await first.ensure('k', writeMarker('earlier'));
    const second = await createArtifactStore(root, { spare: 4 });
    expect(await second.get('k')).toBeUndefined();
    expect(await readdir(path.join(root, 'entries'))).toEqual([]);
  });
});
