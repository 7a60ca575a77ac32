import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { argocdSnippet } from './argocd.js';
import { crdFor } from './crd.js';
import { generate, staleFiles, write } from './generate.js';
import { lintSchema } from './lint.js';
import { type JsonObject, loadSchemas, resolveSchema } from './schemas.js';
import { ajvSchema } from './validators.js';
import { pinnedModules } from './versions.js';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const api = loadSchemas(join(repoRoot, 'schemas'));
const resolvedKinds = api.kinds.map((kind) => ({ kind, resolved: resolveSchema(kind.authored, api.definitions) }));

describe('schemas', () => {
  it('define the six kinds', () => {
    expect(api.kinds.map((kind) => kind.kind).sort()).toEqual([
      'ClusterGroup',
      'Fleet',
      'GlobalService',
      'MemberCluster',
      'PolicyBundle',
      'Work',
    ]);
  });

  it('pass the lint: every field described, every rule compiled', () => {
    expect(resolvedKinds.flatMap(({ kind, resolved }) => lintSchema(kind.kind, resolved))).toEqual([]);
  });

  it('keep every list and map bounded, so status and CEL cost stay bounded', () => {
    const unbounded = resolvedKinds.flatMap(({ kind, resolved }) => {
      const found: string[] = [];
      const walk = (node: JsonObject, path: string): void => {
        if (node.type === 'array' && typeof node.maxItems !== 'number') found.push(`${kind.kind} ${path}`);
        for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, JsonObject>)) walk(child, `${path}.${name}`);
        if (node.items) walk(node.items as JsonObject, `${path}[]`);
      };
      walk(resolved, '');
      return found;
    });
    expect(unbounded).toEqual([]);
  });
});

describe('lint', () => {
  it('names a field without a description', () => {
    const schema = {
      type: 'object',
      description: 'root',
      properties: { spec: { type: 'object', properties: { size: { type: 'integer' } }, description: 'spec' } },
    };
    expect(lintSchema('Widget', schema)).toEqual(['Widget spec.size: every field needs a description (kubectl explain shows it)']);
  });

  it('refuses a CEL rule that does not parse, and a transition rule inside a list', () => {
    const schema = {
      type: 'object',
      description: 'root',
      'x-kubernetes-validations': [{ rule: 'self.a ==', message: 'broken' }],
      properties: {
        items: {
          type: 'array',
          description: 'list',
          maxItems: 3,
          items: { type: 'string', description: 'item', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'immutable' }] },
        },
      },
    };
    expect(lintSchema('Widget', schema)).toEqual([
      'Widget items[]: a rule using oldSelf inside a list cannot be checked by the ajv validators (list items are not paired)',
      'Widget (root): <input>:1:8: found = but expecting end of input',
    ]);
  });
});

describe('resolveSchema', () => {
  it('inlines references; keywords beside a $ref refine it and add rules', () => {
    const definitions = {
      Name: {
        type: 'string',
        maxLength: 10,
        description: 'a name',
        'x-kubernetes-validations': [{ rule: 'self != "x"', message: 'not x' }],
      },
    };
    const schema = {
      type: 'object',
      properties: {
        name: {
          $ref: 'common.yaml#/$defs/Name',
          description: 'the name',
          'x-kubernetes-validations': [{ rule: 'self != "y"', message: 'not y' }],
        },
      },
    };
    expect(resolveSchema(schema, definitions)).toEqual({
      type: 'object',
      properties: {
        name: {
          type: 'string',
          maxLength: 10,
          description: 'the name',
          'x-kubernetes-validations': [
            { rule: 'self != "x"', message: 'not x' },
            { rule: 'self != "y"', message: 'not y' },
          ],
        },
      },
    });
  });
});

describe('CRDs', () => {
  it.each(resolvedKinds.map(({ kind, resolved }) => [kind.kind, kind, resolved] as const))(
    '%s has a status subresource, the flotilla category and printer columns',
    (_name, kind, resolved) => {
      const crd = crdFor(kind, resolved) as {
        spec: {
          names: { categories: string[]; shortNames: string[] };
          versions: { subresources: unknown; additionalPrinterColumns: { name: string }[] }[];
        };
      };
      expect(crd.spec.names.categories).toEqual(['flotilla']);
      expect(crd.spec.names.shortNames.length).toBeGreaterThan(0);
      expect(crd.spec.versions[0]?.subresources).toEqual({ status: {} });
      expect(crd.spec.versions[0]?.additionalPrinterColumns.map((column) => column.name)).toContain('Age');
    },
  );
});

describe('ajvSchema', () => {
  it('closes typed objects and leaves metadata and preserved objects open', () => {
    const schema = ajvSchema({
      type: 'object',
      properties: {
        metadata: { type: 'object', properties: { name: { type: 'string' } } },
        spec: { type: 'object', properties: { raw: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
      },
    });
    expect(schema).toEqual({
      type: 'object',
      additionalProperties: false,
      properties: {
        metadata: { type: 'object', properties: { name: { type: 'string' } } },
        spec: {
          type: 'object',
          additionalProperties: false,
          properties: { raw: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      },
    });
  });
});

describe('generated files', () => {
  let scratch: string | undefined;
  afterEach(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('are up to date in the repository', async () => {
    expect(staleFiles(repoRoot, await generate(repoRoot))).toEqual([]);
  });

  it('are reported stale when edited, missing or left over, and not after write', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'flotilla-codegen-'));
    const inputs = [
      'schemas',
      'crds',
      'src/api/generated',
      'deploy/argocd',
      'charts',
      'package.json',
      ...pinnedModules.map(({ folder }) => `hack/testenv/${folder}/go.mod`),
    ];
    for (const input of inputs) cpSync(join(repoRoot, input), join(scratch, input), { recursive: true });
    const files = await generate(scratch);
    const crd = join(scratch, 'crds', 'flotilla.dev_works.yaml');
    writeFileSync(crd, `${readFileSync(crd, 'utf8')}# edited\n`);
    rmSync(join(scratch, 'src/api/generated/types.ts'));
    writeFileSync(join(scratch, 'crds', 'flotilla.dev_gadgets.yaml'), 'kind: CustomResourceDefinition\n');
    expect(staleFiles(scratch, files)).toEqual([
      'crds/flotilla.dev_gadgets.yaml',
      'crds/flotilla.dev_works.yaml',
      'src/api/generated/types.ts',
    ]);
    write(scratch, files);
    expect(staleFiles(scratch, files)).toEqual([]);
  });

  it('are the same on every run', async () => {
    expect(await generate(repoRoot)).toEqual(await generate(repoRoot));
  });
});

describe('argocdSnippet', () => {
  it('gives every kind its own key, the shared part first, and refuses a kind without a script', () => {
    const snippet = argocdSnippet(repoRoot, ['Work', 'Fleet']);
    expect(snippet.match(/^ {2}resource\.customizations\.health\.[^:]+/gm)).toEqual([
      '  resource.customizations.health.flotilla.dev_Fleet',
      '  resource.customizations.health.flotilla.dev_Work',
    ]);
    expect(snippet).toContain('    local function flotillaHealth(obj, suspended)');
    expect(() => argocdSnippet(repoRoot, ['Work', 'Gadget'])).toThrow('no Argo CD health script for Gadget in deploy/argocd/health/');
  });
});
