import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

// Real Git repositories for the origin tests, made with the system's git the way a developer makes
// them: files written, committed, branched, tagged. Fetched through their path or file:// URL, with
// the hub's allowLocal policy.

const run = promisify(execFile);

export interface TestRepository {
  /** The repository's folder (a plain path; `file://${dir}` works the same). */
  dir: string;
  /** Writes files (null deletes, `{ symlinkTo }` makes a symbolic link) and commits them; returns the commit. */
  commit(message: string, files: Record<string, string | null | { symlinkTo: string }>): Promise<string>;
  git(...args: string[]): Promise<string>;
}

export interface TestRepositories {
  create(name: string, options?: { branch?: string }): Promise<TestRepository>;
  /** A scratch folder of the test's own (e.g. the origin engine's cache). */
  folder(name: string): Promise<string>;
  remove(): Promise<void>;
}

export async function testRepositories(): Promise<TestRepositories> {
  const root = await mkdtemp(path.join(tmpdir(), 'flotilla-origin-test-'));
  const env = { PATH: process.env.PATH ?? '', HOME: root, GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
  const identity = ['-c', 'user.name=Flotilla Test', '-c', 'user.email=test@flotilla.invalid', '-c', 'commit.gpgsign=false'];
  return {
    async create(name, options = {}) {
      const dir = path.join(root, name);
      const git = async (...args: string[]): Promise<string> => (await run('git', [...identity, '-C', dir, ...args], { env })).stdout;
      await run('git', ['init', '--quiet', `--initial-branch=${options.branch ?? 'main'}`, dir], { env });
      return {
        dir,
        git,
        async commit(message, files) {
          for (const [file, content] of Object.entries(files)) {
            const target = path.join(dir, file);
            await rm(target, { force: true, recursive: true });
            if (content === null) continue;
            await mkdir(path.dirname(target), { recursive: true });
            if (typeof content === 'string') await writeFile(target, content);
            else await symlink(content.symlinkTo, target);
          }
          await git('add', '--all');
          await git('commit', '--quiet', '--allow-empty', '-m', message);
          return (await git('rev-parse', 'HEAD')).trim();
        },
      };
    },
    async folder(name) {
      const dir = path.join(root, 'folders', name);
      await mkdir(dir, { recursive: true });
      return dir;
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
