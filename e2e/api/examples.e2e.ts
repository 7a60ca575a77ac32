// examples/ is what a platform team copies first: it must apply cleanly, pass the ajv validators,
// and read well in `kubectl get` and `kubectl explain`.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { type Kind, apiVersion, validators } from '../../src/api/index.js';
import { kubectl, kubectlOk, repoRoot } from '../framework/index.js';
import { installCrdsOnHub } from './crds.js';

const examplesDir = join(repoRoot, 'examples');

interface ExampleObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

const examples: ExampleObject[] = readdirSync(examplesDir)
  .filter((file) => file.endsWith('.yaml'))
  .sort()
  .flatMap((file) => yaml.loadAll(readFileSync(join(examplesDir, file), 'utf8')) as ExampleObject[]);
const flotillaExamples = examples.filter((object) => object.apiVersion === apiVersion);

beforeAll(async () => {
  await installCrdsOnHub();
});

afterAll(async () => {
  await kubectl('hub', ['delete', '-f', examplesDir, '--wait=false']);
});

describe('examples/', () => {
  it('shows a realistic fleet: a Fleet, three clusters, two groups, a service and a policy bundle', () => {
    const count = (kind: string) => flotillaExamples.filter((object) => object.kind === kind).length;
    expect({
      Fleet: count('Fleet'),
      MemberCluster: count('MemberCluster'),
      ClusterGroup: count('ClusterGroup'),
      GlobalService: count('GlobalService'),
      PolicyBundle: count('PolicyBundle'),
    }).toEqual({ Fleet: 1, MemberCluster: 3, ClusterGroup: 2, GlobalService: 1, PolicyBundle: 1 });
    const service = JSON.stringify(flotillaExamples.find((object) => object.kind === 'GlobalService'));
    for (const kind of ['Deployment', 'Service', 'ConfigMap']) expect(service).toContain(`"kind":"${kind}"`);
  });

  it('every example passes its ajv validator', () => {
    const refused = flotillaExamples.flatMap((object) => {
      const result = validators[object.kind as Kind](object);
      return result.valid ? [] : [{ name: object.metadata.name, errors: result.errors }];
    });
    expect(refused).toEqual([]);
  });

  it('kubectl apply -f examples/ applies every example cleanly', async () => {
    const result = await kubectl('hub', ['apply', '-f', examplesDir]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    for (const object of examples) {
      expect(result.stdout).toContain(`/${object.metadata.name} `);
    }
  });

  it('kubectl get flotilla lists them all with the printer columns', async () => {
    await kubectlOk('hub', ['apply', '-f', examplesDir]);
    const table = await kubectlOk('hub', ['get', 'flotilla', '--all-namespaces']);
    for (const object of flotillaExamples) expect(table).toContain(object.metadata.name);
    const services = await kubectlOk('hub', ['get', 'gsvc', '-n', 'fleet-prod']);
    expect(services.split('\n')[0]).toMatch(/NAME\s+READY\s+TARGETED\s+UPDATED\s+AVAILABLE\s+FAILED\s+AGE/);
    const members = await kubectlOk('hub', ['get', 'mc', '-o', 'wide']);
    expect(members.split('\n')[0]).toMatch(/NAME\s+FLEET\s+READY\s+VERSION\s+NODES\s+HEARTBEAT\s+AGENT\s+PAUSED\s+AGE/);
    expect(members).toMatch(/us-east-1\s+prod\s+.*true/);
  });
});

describe('kubectl explain', () => {
  it.each([
    ['globalservice.spec.rollout.stages.pause', 'Wait this long after the stage'],
    ['globalservice.spec.overrides.patches.operations', 'One RFC 6902 operation'],
    ['membercluster.spec.fleet', 'Immutable'],
    ['fleet.spec.heartbeatTimeout', 'considered lost'],
    ['policybundle.spec.excludeNamespaces', 'Defaults to the system namespaces'],
    ['work.status.manifests.driftedFields', 'JSON paths of the fields that drifted'],
  ])('%s shows its description', async (field, description) => {
    const output = await kubectlOk('hub', ['explain', field]);
    expect(output.replace(/\s+/g, ' ')).toContain(description);
  });
});
