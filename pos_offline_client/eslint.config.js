// ESLint for the till (npm run lint; setup/retail-test runs it as a suite): the recommended
// rules, browser globals for src/, node's for the tests, the stand-in, the
// scripts and the build configuration.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['dist/', 'dist-count/', 'node_modules/'] },
  js.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2024, sourceType: 'module' },
    rules: {
      'no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_', caughtErrors: 'none' }],
      'prefer-const': 'error',
      'no-var': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/**/*.js', 'count/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // the service worker of both pages; build/service-worker.js puts the
    // version, the files to precache and the cache prefix in place of these
    files: ['src/sw-template.js'],
    languageOptions: { globals: { ...globals.serviceworker, __VERSION__: 'readonly', __PRECACHE__: 'readonly', __CACHE_PREFIX__: 'readonly' } },
  },
  {
    files: ['test/**/*.js', 'bench/**/*.mjs', 'bench/**/*.js', 'scripts/**/*.mjs', 'scripts/**/*.js', 'build/**/*.js', '*.config.js'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
];
