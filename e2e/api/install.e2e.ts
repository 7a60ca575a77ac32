// `flotilla install` puts the CRDs of crds/ on a hub and returns once they are served.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { kubectl, kubectlOk, readPlaneState, repoRoot } from '../framework/index.js';
import { flotilla } from './crds.js';

interface Crd {
  metadata: { name: string; resourceVersion?: string };
  spec: { versions: { schema: unknown }[] };
}

const crdFiles = readdirSync(join(repoRoot, 'crds'))
  .filter((file) => file.endsWith('.yaml'))
  .sort();
const crdsOnDisk = crdFiles.map((file) => yaml.load(readFileSync(join(repoRoot, 'crds', file), 'utf8')) as Crd);
const names = crdsOnDisk.map((crd) => crd.metadata.name);

async function crdOnHub(name: string): Promise<Crd> {
  return JSON.parse(await kubectlOk('hub', ['get', 'crd', name, '-o', 'json'])) as Crd;
}

describe('flotilla install', () => {
  it('applies every CRD of crds/ and returns once each is Established', async () => {
    // Start from a hub without one of them, so the command has to create it and wait for it.
    await kubectlOk('hub', ['delete', 'crd', 'works.flotilla.dev', '--ignore-not-found', '--wait=true']);
    const result = await flotilla(['install', '--kubeconfig', readPlaneState('hub').kubeconfig]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout.trim().split('\n')).toEqual(names.map((name) => `customresourcedefinition/${name} established`));

    // Established right away, without waiting: the command waited already.
    const established = await kubectlOk('hub', [
      'get',
      'crd',
      ...names,
      '-o',
      'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Established")].status}{" "}{end}',
    ]);
    expect(established.trim().split(' ')).toEqual(names.map(() => 'True'));
    expect((await kubectl('hub', ['get', 'works', '-A'])).code).toBe(0);

    for (const crd of crdsOnDisk) {
      expect((await crdOnHub(crd.metadata.name)).spec.versions[0]?.schema).toEqual(crd.spec.versions[0]?.schema);
    }
  });

  it('changes nothing when the CRDs are already installed', async () => {
    const install = () => flotilla(['install', '--kubeconfig', readPlaneState('hub').kubeconfig]);
    expect((await install()).code).toBe(0);
    const before = await Promise.all(names.map(async (name) => (await crdOnHub(name)).metadata.resourceVersion));
    expect((await install()).code).toBe(0);
    const after = await Promise.all(names.map(async (name) => (await crdOnHub(name)).metadata.resourceVersion));
    expect(after).toEqual(before);
  });

  it('fails with a clear message when the hub cannot be reached', async () => {
    const result = await flotilla(['install', '--kubeconfig', join(repoRoot, 'no-such-kubeconfig')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^flotilla: .*no-such-kubeconfig/);
  });
});
