// The container image `make image` builds (hack/image/build.sh), started the way a container
// runtime starts it: unpacked by umoci into an OCI runtime bundle, whose config.json umoci derives
// from the image's own config (user, entrypoint, environment, working directory), and run by
// Debian's runc. The bundle is tightened as the charts' restricted Pod Security profile asks: a
// read-only root filesystem, no capabilities, no privilege escalation. runc, not crun: bookworm's
// crun (1.8) refuses a hybrid cgroup v1/v2 hierarchy, which this machine's CI has. Building the
// image (mmdebstrap) and running it (runc) as they are used here needs root, as CI runs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import semver from 'semver';
import { pinnedVersions } from '../../src/api/index.js';
import { repoRoot, runTool, runToolOk, temporaryDirectory, type ToolResult } from '../framework/index.js';

interface RuntimeConfig {
  root: { path: string; readonly?: boolean };
  process: {
    terminal?: boolean;
    user: { uid: number; gid: number };
    args: string[];
    env: string[];
    cwd: string;
    noNewPrivileges?: boolean;
    capabilities?: Record<string, string[]>;
  };
  linux: { cgroupsPath?: string };
}

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };

let bundle = '';
let removeBundle: () => Promise<void> = () => Promise.resolve();
let imageConfig: RuntimeConfig;
let runs = 0;

/** Runs `args` in a fresh container of the bundle (the image's entrypoint when `entrypoint` is true). */
async function inContainer(args: string[], { entrypoint = true } = {}): Promise<ToolResult> {
  const config: RuntimeConfig = structuredClone(imageConfig);
  config.process.args = entrypoint ? [...imageConfig.process.args, ...args] : args;
  config.process.terminal = false;
  config.process.noNewPrivileges = true;
  config.process.capabilities = {};
  config.root.readonly = true;
  // Relative: runc puts the container's cgroups below its own, not at the top of the hierarchy.
  config.linux.cgroupsPath = `flotilla-image-e2e-${process.pid}-${++runs}`;
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  return runTool('runc', ['run', '--bundle', bundle, `flotilla-image-e2e-${process.pid}-${runs}`]);
}

beforeAll(async () => {
  // Cold, the image takes about two minutes to build; warm, the cache answers at once.
  const image = (
    await runToolOk(join(repoRoot, 'hack', 'image', 'build.sh'), [], {
      cwd: repoRoot,
      env: Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    })
  ).trim();
  const temporary = await temporaryDirectory('image');
  removeBundle = temporary.remove;
  bundle = join(temporary.path, 'bundle');
  await runToolOk('umoci', ['unpack', '--image', image, bundle]);
  imageConfig = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as RuntimeConfig;
}, 600_000);

afterAll(() => removeBundle());

describe('the container image', () => {
  it("runs `flotilla version` through its entrypoint, reporting this flotilla and the pinned versions on Node.js that meets package.json's engines", async () => {
    const result = await inContainer(['version', '-o', 'json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const reported = JSON.parse(result.stdout) as Record<string, string>;
    expect(reported).toEqual({ flotilla: pkg.version, ...pinnedVersions, node: expect.any(String) });
    expect({ node: reported.node, satisfies: semver.satisfies(reported.node ?? '', pkg.engines.node) }).toEqual({
      node: reported.node,
      satisfies: true,
    });
  });

  it('answers `flotilla hub --help` with the hub operator usage', async () => {
    const result = await inContainer(['hub', '--help']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('Usage: flotilla hub [options]');
    expect(result.stdout).toContain('--kubeconfig');
    expect(result.stdout).toContain('--helm <path>');
  });

  it('runs as the non-root user flotilla (65532), which its config names, not as root', async () => {
    expect(imageConfig.process.user).toMatchObject({ uid: 65532, gid: 65532 });
    const result = await inContainer(['/usr/bin/id'], { entrypoint: false });
    expect(result).toMatchObject({ code: 0, stdout: 'uid=65532(flotilla) gid=65532(flotilla) groups=65532(flotilla)\n' });
  });

  it('is what the Dockerfile builds: the same user, working directory and entrypoint', () => {
    // The Dockerfile cannot be built here (no Docker engine); its final stage must at least say what this image is.
    const finalStage =
      readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')
        .split(/^FROM /m)
        .at(-1) ?? '';
    const directive = (name: string): string => new RegExp(`^${name} (.+)$`, 'm').exec(finalStage)?.[1] ?? '';
    expect({
      user: directive('USER'),
      workdir: directive('WORKDIR'),
      entrypoint: JSON.parse(directive('ENTRYPOINT') || 'null') as unknown,
    }).toEqual({
      user: `${imageConfig.process.user.uid}:${imageConfig.process.user.gid}`,
      workdir: imageConfig.process.cwd,
      entrypoint: imageConfig.process.args,
    });
  });

  it('carries the pinned helm and kustomize, and git, on its PATH', async () => {
    const helm = await inContainer(['helm', 'version', '--template', '{{.Version}}'], { entrypoint: false });
    const kustomize = await inContainer(['kustomize', 'version'], { entrypoint: false });
    const git = await inContainer(['git', '--version'], { entrypoint: false });
    expect({ helm: helm.stdout.trim(), kustomize: kustomize.stdout.trim(), git: git.code }).toEqual({
      helm: pinnedVersions.helm,
      kustomize: pinnedVersions.kustomize,
      git: 0,
    });
  });
});
