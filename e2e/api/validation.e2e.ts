// The flotilla API refuses bad objects at `kubectl apply`, naming the field and the reason, and the
// ajv validators refuse the very same objects on the same field.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { validators } from '../../src/api/index.js';
import { kubectl, kubectlOk, uniqueName } from '../framework/index.js';
import { installCrdsOnHub } from './crds.js';
import { type InvalidObject, fleet, invalidObjects, invalidUpdates, memberCluster, namespacedBuilders } from './invalid-objects.js';

const namespace = uniqueName('api-validation');
const cases = invalidObjects(namespace);

/** The line of kubectl's error output about `field`, as the apiserver words it. */
function refusalLine(stderr: string, field: string): string | undefined {
  return stderr.split('\n').find((line) => line.includes(`${field}:`) || line.includes(`unknown field "${field}"`));
}

beforeAll(async () => {
  await installCrdsOnHub();
  await kubectlOk('hub', ['create', 'namespace', namespace]);
});

afterAll(async () => {
  await kubectl('hub', ['delete', 'namespace', namespace, '--wait=false']);
  await kubectl('hub', ['delete', 'fleets,memberclusters', '-l', 'flotilla.dev/e2e=validation', '--wait=false']);
});

describe('invalid objects', () => {
  it('has at least 30 cases, every kind among them', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((entry) => entry.kind))).toEqual(new Set(Object.keys(validators)));
  });

  it.each(cases.map((entry): [string, InvalidObject] => [entry.name, entry]))('kubectl apply refuses %s', async (_name, entry) => {
    const result = await kubectl('hub', ['apply', '-f', '-'], JSON.stringify(entry.object));
    expect(result.code).not.toBe(0);
    const line = refusalLine(result.stderr, entry.field);
    expect({ line, stderr: result.stderr }).toEqual({ line: expect.stringContaining(entry.message), stderr: result.stderr });
  });

  it.each(cases.map((entry): [string, InvalidObject] => [entry.name, entry]))('the ajv validator refuses %s', (_name, entry) => {
    const result = validators[entry.kind](entry.object);
    expect(result.valid).toBe(false);
    const errors = result.valid ? [] : result.errors;
    const onField = errors.filter((error) => error.field === entry.field);
    expect({ onField: onField.length > 0, errors }).toEqual({ onField: true, errors });
    if (entry.cel) expect(onField.map((error) => error.message)).toContainEqual(expect.stringContaining(entry.message));
  });
});

describe('updates', () => {
  it.each(invalidUpdates().map((entry) => [entry.name, entry] as const))('kubectl apply and ajv refuse %s', async (_name, entry) => {
    const labelled = (object: Record<string, unknown>) => ({
      ...object,
      metadata: { ...(object.metadata as object), labels: { 'flotilla.dev/e2e': 'validation' } },
    });
    await kubectlOk('hub', ['apply', '-f', '-'], JSON.stringify(labelled(entry.before)));
    const result = await kubectl('hub', ['apply', '-f', '-'], JSON.stringify(labelled(entry.after)));
    expect(result.code).not.toBe(0);
    expect(refusalLine(result.stderr, entry.field)).toContain(entry.message);

    const validate = validators[entry.kind];
    expect(validate(entry.after).valid).toBe(true);
    const update = validate.update(entry.before, entry.after);
    expect(update.valid ? [] : update.errors).toContainEqual({ field: entry.field, message: expect.stringContaining(entry.message) });
  });

  it('accepts changes to mutable fields (pausing a member cluster)', async () => {
    const name = uniqueName('pausable');
    const labels = { 'flotilla.dev/e2e': 'validation' };
    const before = { ...memberCluster({ fleet: 'prod' }, name), metadata: { name, labels } };
    const after = { ...memberCluster({ fleet: 'prod', paused: true }, name), metadata: { name, labels } };
    await kubectlOk('hub', ['apply', '-f', '-'], JSON.stringify(before));
    await kubectlOk('hub', ['apply', '-f', '-'], JSON.stringify(after));
    expect(await kubectlOk('hub', ['get', 'membercluster', name, '-o', 'jsonpath={.spec.paused}'])).toBe('true');
    expect(validators.MemberCluster.update(before, after).valid).toBe(true);
  });
});

describe('defaults', () => {
  it('an empty Fleet gets the same defaults from the apiserver and from ajv', async () => {
    const name = uniqueName('empty');
    const object = { ...fleet(undefined, name), metadata: { name, labels: { 'flotilla.dev/e2e': 'validation' } } };
    await kubectlOk('hub', ['apply', '-f', '-'], JSON.stringify(object));
    const stored = JSON.parse(await kubectlOk('hub', ['get', 'fleet', name, '-o', 'json'])) as { spec: unknown };
    expect(stored.spec).toEqual({
      rollout: { strategy: 'RollingUpdate', maxUnavailable: '25%', progressDeadlineSeconds: 600 },
      driftPolicy: 'Correct',
      heartbeatTimeout: '5m',
      restrictions: {
        globalServices: {
          deniedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease', 'flotilla-system'],
          deniedKinds: [{ group: 'admissionregistration.k8s.io', kind: '*' }],
          rbac: 'Restricted',
        },
        policyBundles: { deniedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease', 'flotilla-system'], rbac: 'Restricted' },
      },
    });
    const validated = validators.Fleet(object);
    expect(validated.valid ? validated.object.spec : undefined).toEqual(stored.spec);
  });

  it('a minimal GlobalService is stored with its deletion and adoption defaults', async () => {
    const object = namespacedBuilders(namespace).globalService({}, 'minimal');
    await kubectlOk('hub', ['apply', '-f', '-'], JSON.stringify(object));
    const stored = JSON.parse(await kubectlOk('hub', ['get', 'globalservice', 'minimal', '-n', namespace, '-o', 'json'])) as {
      spec: unknown;
    };
    expect(stored.spec).toMatchObject({ deletionPolicy: 'Delete', adoption: 'Never' });
    const validated = validators.GlobalService(object);
    expect(validated.valid ? validated.object.spec : undefined).toEqual(stored.spec);
  });
});
