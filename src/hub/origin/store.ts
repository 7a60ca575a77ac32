import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

// The hub's disk cache of fetched origins: one directory per distinct content (a commit of a
// repository, a chart archive by digest), so a poll that finds the revision it already has does no
// work, and 1000 services on one chart fetch it once.
//
// - Entries are built in a staging folder and renamed into place, so an entry that exists is
//   complete: a crash mid-fetch leaves no half tree that a later render could take for the whole.
// - The store owns its root: it empties it when created (a restarted hub fetches again; it never
//   trusts what an earlier process may have left half-written or what anyone else put there).
// - Bounded: entries a holder (a service, by the controller's choice of name) holds are kept; of the
//   others, the `spare` most recently used are kept and older ones removed.

export interface ArtifactStore {
  /** The directory of a complete entry, or undefined; counts as a use. */
  get(key: string): Promise<string | undefined>;
  /**
   * The directory of an entry, built by `build` (into the directory it is given) when missing.
   * Concurrent calls for one key share one build; a build that throws leaves nothing behind.
   */
  ensure(key: string, build: (dir: string) => Promise<void>): Promise<string>;
  /** Keeps `key` while `holder` holds it; a holder holds one entry, so this releases its previous one. */
  hold(holder: string, key: string): Promise<void>;
  /** Lets go of whatever `holder` held (a deleted service). */
  release(holder: string): Promise<void>;
  /** Entries on disk. */
  readonly size: number;
}

export interface ArtifactStoreOptions {
  /** How many entries no holder holds are kept (the most recently used), e.g. for reverts. */
  spare: number;
}

function entryName(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

async function exists(dir: string): Promise<boolean> {
  try {
    await stat(dir);
    return true;
  } catch {
    return false;
  }
}

export async function createArtifactStore(root: string, options: ArtifactStoreOptions): Promise<ArtifactStore> {
  const entriesDir = path.join(root, 'entries');
  const stagingDir = path.join(root, 'staging');
  await rm(entriesDir, { recursive: true, force: true });
  await rm(stagingDir, { recursive: true, force: true });
  await mkdir(entriesDir, { recursive: true, mode: 0o700 });
  await mkdir(stagingDir, { recursive: true, mode: 0o700 });

  // Keys of the entries on disk, least recently used first (a Set iterates in insertion order).
  const entries = new Set<string>();
  const building = new Map<string, Promise<string>>();
  const holders = new Map<string, string>();
  const dirOf = (key: string): string => path.join(entriesDir, entryName(key));
  const touch = (key: string): void => {
    entries.delete(key);
    entries.add(key);
  };
  const evict = async (): Promise<void> => {
    const held = new Set(holders.values());
    const unheld = [...entries].filter((key) => !held.has(key) && !building.has(key));
    const excess = unheld.slice(0, Math.max(0, unheld.length - options.spare));
    for (const key of excess) entries.delete(key);
    await Promise.all(excess.map((key) => rm(dirOf(key), { recursive: true, force: true })));
  };
  const build = async (key: string, builder: (dir: string) => Promise<void>): Promise<string> => {
    const staging = path.join(stagingDir, randomBytes(12).toString('hex'));
    await mkdir(staging, { mode: 0o700 });
    try {
      await builder(staging);
      await rename(staging, dirOf(key));
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
    touch(key);
    return dirOf(key);
  };

  const get = async (key: string): Promise<string | undefined> => {
    if (!entries.has(key)) return undefined;
    // Something outside the hub (a tmp cleaner) may have removed it: then it is fetched again.
    if (!(await exists(dirOf(key)))) {
      entries.delete(key);
      return undefined;
    }
    touch(key);
    return dirOf(key);
  };
  // Removal is best effort: an entry that cannot be removed now is only disk, never served again.
  const evictQuietly = (): Promise<void> => evict().catch(() => undefined);

  return {
    get,
    async ensure(key, builder) {
      const present = await get(key);
      if (present !== undefined) return present;
      let pending = building.get(key);
      if (!pending) {
        pending = build(key, builder).finally(() => building.delete(key));
        building.set(key, pending);
      }
      const dir = await pending;
      await evictQuietly();
      return dir;
    },
    hold(holder, key) {
      holders.set(holder, key);
      return evictQuietly();
    },
    release(holder) {
      holders.delete(holder);
      return evictQuietly();
    },
    get size() {
      return entries.size;
    },
  };
}
