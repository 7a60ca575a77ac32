import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { pinnedModules, requiredVersion } from './versions.js';

const repoRoot = resolve(import.meta.dirname, '..', '..');

describe('requiredVersion', () => {
  const goMod = [
    'module flotilla.dev/hack/testenv/example',
    '',
    '// require example.com/commented v9.9.9 is prose, not a requirement',
    'go 1.26.0',
    '',
    'require example.com/single v1.2.3',
    '',
    'require (',
    '\texample.com/indirect v0.4.0 // indirect',
    '\texample.com/tool v2.0.1',
    '\texample.com/tool-extra v7.0.0',
    ')',
    '',
    'replace example.com/replaced => example.com/fork v1.0.0',
  ].join('\n');

  it.each([
    ['a single-line require', 'example.com/single', 'v1.2.3'],
    ['an indirect requirement in a block', 'example.com/indirect', 'v0.4.0'],
    ['a module, not another that starts with its path', 'example.com/tool', 'v2.0.1'],
    ['a module only named in a comment', 'example.com/commented', undefined],
    ['a module only named in a replace', 'example.com/replaced', undefined],
    ['a module not required at all', 'example.com/absent', undefined],
  ])('reads %s', (_what, module, version) => {
    expect(requiredVersion(goMod, module)).toBe(version);
  });

  it('finds every pinned module in its go.mod', () => {
    for (const { folder, module } of pinnedModules) {
      const version = requiredVersion(readFileSync(join(repoRoot, 'hack', 'testenv', folder, 'go.mod'), 'utf8'), module);
      expect({ module, version }).toEqual({ module, version: expect.stringMatching(/^v\d+\.\d+\.\d+$/) });
    }
  });
});
