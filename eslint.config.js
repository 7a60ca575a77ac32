import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Which of our folders a folder under src/ may import (README "Layout"). The hub and the agent meet
// only in the Work contract (src/work/) and the domain-free Kubernetes rules (src/kube-semantics/).
const folders = ['api', 'runtime', 'work', 'kube-semantics', 'hub', 'agent', 'cli', 'dashboard'];
function importsOnly(folder, allowed, message, except = '') {
  const denied = folders.filter((other) => other !== folder && !allowed.includes(other));
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ regex: `^(\\.\\./)+${except}(${denied.join('|')})/`, message: `src/${folder}/ ${message}` }],
        },
      ],
    },
  };
}

// `toHub` is the relative path from the zone's files up to src/hub/.
function originZone(files, toHub) {
  const noClient = 'src/hub/origin/ holds no Kubernetes client: the controller reads and writes.';
  const ours =
    'src/hub/origin/ imports only src/api/, src/runtime/, src/work/ and src/kube-semantics/ (the GlobalService controller imports it).';
  return {
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@kubernetes/client-node', message: noClient }],
          patterns: [
            { regex: `^${toHub}(?!\\.\\./|origin/)`, message: ours },
            { regex: `^${toHub}\\.\\./(hub|agent|cli)/`, message: ours },
            {
              regex: 'runtime/kube\\.js$',
              importNames: ['kubeFromDefault', 'kubeFromFile', 'kubeFromKubeConfig', 'kubeFromToken', 'kubeInCluster'],
              message: noClient,
            },
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'src/api/generated/', '.testenv/', 'hack/testenv/tool/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'hack/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // client-node's models are classes that its own API takes as plain object literals.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    // Warnings, not errors: they point at functions to split when next touched (README "Layout").
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts', 'src/api/generated/**'],
    rules: {
      complexity: ['warn', 15],
      'max-lines-per-function': ['warn', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  importsOnly('runtime', [], 'imports nothing of ours: it is the Kubernetes client and controller runtime.'),
  importsOnly('api', ['runtime'], 'imports only src/runtime/: it is the flotilla.dev API, data and names.'),
  importsOnly('work', ['api', 'runtime'], 'is the hub–agent contract and imports only src/api/ and src/runtime/.'),
  importsOnly('kube-semantics', ['api', 'runtime'], 'holds domain-free Kubernetes rules and imports only src/api/ and src/runtime/.'),
  importsOnly(
    'hub',
    ['api', 'runtime', 'work', 'kube-semantics'],
    'must not import the agent: share through src/work/ or src/kube-semantics/.',
  ),
  // The origin engine is a library the GlobalService controller calls, with no Kubernetes client:
  // like the rest of the hub it may import api, runtime, work and kube-semantics, but no other hub
  // folder (the controller imports it, not the other way round) and no way to reach an apiserver.
  originZone('src/hub/origin/*.ts', '\\.\\./'),
  originZone('src/hub/origin/testdata/*.ts', '\\.\\./\\.\\./'),
  importsOnly(
    'agent',
    ['api', 'runtime', 'work', 'kube-semantics'],
    'must not import the hub: share through src/work/ or src/kube-semantics/.',
  ),
  // The dashboard reads what the hub writes and judges it as the hub does (its pure rules).
  importsOnly('dashboard', ['api', 'runtime', 'work', 'kube-semantics', 'hub'], 'reads the hub: it must not import the agent or the CLI.'),
  // The CLI starts the hub and the agent through their entry points; constants come from src/api/.
  importsOnly(
    'cli',
    ['api', 'runtime', 'work', 'kube-semantics'],
    'reaches the hub and the agent only through their entry points; take constants from src/api/.',
    '(?!hub/operator\\.js$|agent/member-agent\\.js$|agent/bootstrap\\.js$|dashboard/server\\.js$)',
  ),
  {
    // jest loads its global setup, teardown and reporters as default exports.
    files: ['e2e/framework/global-*.ts', 'hack/jest-summary-reporter.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['*.js', 'bin/*.js', 'hack/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: { 'no-restricted-syntax': 'off' },
  },
);
