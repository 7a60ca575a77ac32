import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Folders for render tests, written as a repository would hold them: files by path, `{ symlinkTo }`
// for a symbolic link, and the real podinfo chart and kustomization copied in (ORIGIN.md there).

export const PODINFO = path.join(import.meta.dirname, 'podinfo');

export type TreeFiles = Record<string, string | { symlinkTo: string }>;

export interface TestTrees {
  /** A new folder holding `files`; `podinfo: true` copies podinfo's chart and kustomization in first. */
  write(files: TreeFiles, options?: { podinfo?: boolean }): Promise<string>;
  remove(): Promise<void>;
}

export async function testTrees(): Promise<TestTrees> {
  const root = await mkdtemp(path.join(tmpdir(), 'flotilla-render-test-'));
  let count = 0;
  return {
    async write(files, options = {}) {
      count += 1;
      const dir = path.join(root, `tree-${count}`);
      await mkdir(dir);
      if (options.podinfo === true) await cp(PODINFO, dir, { recursive: true });
      for (const [file, content] of Object.entries(files)) {
        const target = path.join(dir, file);
        await mkdir(path.dirname(target), { recursive: true });
        if (typeof content === 'string') await writeFile(target, content);
        else await symlink(content.symlinkTo, target);
      }
      return dir;
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
