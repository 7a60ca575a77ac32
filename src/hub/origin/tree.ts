import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';

// What is in a checked-out tree, read without following anything out of it.
//
// A Git repository can hold symbolic links, and a link to `/var/run/secrets/…/token` or to another
// tenant's cached tree would let a chart's `.Files.Get`, a kustomization or the plain-manifest
// reader ship the hub's own files to every cluster (Argo CD's CVE-2022-24348 class). So a tree with
// a link that resolves outside it is refused as a whole; links inside it are fine.

/** A tree-relative path with `/` separators, e.g. `apps/web/deploy.yaml`. */
export type TreePath = string;

/**
 * A path inside a tree as the user wrote it (`./apps/web`, `apps/web/`), normalised; undefined when
 * it is absolute or climbs out of the tree. `''` is the tree's root.
 */
export function normaliseTreePath(written: string | undefined): TreePath | undefined {
  const trimmed = (written ?? '').trim();
  if (trimmed.startsWith('/') || trimmed.includes('\\') || trimmed.includes('\0')) return undefined;
  const normal = path.posix.normalize(trimmed === '' ? '.' : trimmed).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) return undefined;
  return normal === '.' ? '' : normal;
}

/** Whether `target` (absolute) is `root` or inside it. */
export function isInside(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

export interface TreeEntry {
  path: TreePath;
  kind: 'file' | 'directory' | 'symlink';
}

/** Every entry under `root`, depth first, names in byte order; symbolic links are listed, not followed. */
export async function walkTree(root: string, under: TreePath = ''): Promise<TreeEntry[]> {
  const names = (await readdir(path.join(root, under))).sort(compareBytes);
  const entries: TreeEntry[] = [];
  for (const name of names) {
    const relative = under === '' ? name : `${under}/${name}`;
    const info = await lstat(path.join(root, relative));
    if (info.isSymbolicLink()) entries.push({ path: relative, kind: 'symlink' });
    else if (info.isDirectory()) entries.push({ path: relative, kind: 'directory' }, ...(await walkTree(root, relative)));
    else if (info.isFile()) entries.push({ path: relative, kind: 'file' });
  }
  return entries;
}

/** Byte-wise comparison of UTF-8 strings (as `LC_ALL=C sort`), independent of the hub's locale. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Where a link really leads: undefined when nothing is there (a dangling link). */
async function realTarget(link: string): Promise<string | undefined> {
  try {
    return await realpath(link);
  } catch {
    return undefined;
  }
}

/**
 * The links of a tree that point outside it, as `link -> target` (at most `limit`). A link counts
 * as outside when its target as written leaves the tree, or when what it leads to once every link
 * on the way is followed does (`a -> ../..` chained with `b -> a/../..`).
 */
export async function linksOutOfTree(root: string, limit = 3): Promise<string[]> {
  const realRoot = await realpath(root);
  const outside: string[] = [];
  for (const entry of await walkTree(root)) {
    if (entry.kind !== 'symlink') continue;
    const link = path.join(root, entry.path);
    const target = await readlink(link);
    const real = await realTarget(link);
    const escapes = !isInside(root, path.resolve(path.dirname(link), target)) || (real !== undefined && !isInside(realRoot, real));
    if (escapes) outside.push(`${entry.path} -> ${target}`);
    if (outside.length >= limit) break;
  }
  return outside;
}
