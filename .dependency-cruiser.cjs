// SPDX-License-Identifier: AGPL-3.0-or-later
// Layering rules, checked by `npm test` (npm run test:layers, scripts/check-layers.mjs). The core (src/pve, src/analysis,
// src/api, src/migration, src/audit, src/jobs, and src/present, the one renderer the CLI and the panel share) is pure
// and isomorphic: it runs in the CLI, the shim and the browser, so it imports no Node built-ins and none of the front ends.
/** @type {import('dependency-cruiser').IConfiguration} */
const CORE = '^src/(pve|analysis|api|migration|audit|jobs|present)/';
module.exports = {
  forbidden: [
    {
      name: 'core-no-node-builtins',
      comment: 'The core runs in the browser too: no node:* (put Node code in src/node or src/cli).',
      severity: 'error',
      from: { path: CORE },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'core-no-front-ends',
      comment: 'The core imports no front end: src/cli, src/node, api-shim, panel.',
      severity: 'error',
      from: { path: CORE },
      to: { path: '^(src/cli|src/node|api-shim|panel)/' },
    },
    {
      name: 'api-is-the-pve-client-only',
      comment: 'src/api is the PVE client; assembling analysis inputs lives with the audit service (src/audit).',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/analysis/' },
    },
    {
      name: 'panel-only-isomorphic-core',
      comment: 'The panel runs in the browser: it imports the isomorphic core, never src/cli, src/node or the shim.',
      severity: 'error',
      from: { path: '^panel/' },
      // api-shim/contracts holds the /dp/* request and answer shapes both sides share (pure, see below).
      to: { path: '^(src/cli|src/node|api-shim)/', pathNot: '^api-shim/contracts/[^/]+\\.[jt]s$' },
    },
    {
      name: 'panel-no-node-builtins',
      severity: 'error',
      from: { path: '^panel/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'shared-contracts-isomorphic',
      comment: 'api-shim/contracts is read by the panel too: no node:*, no shim code, no CLI.',
      severity: 'error',
      from: { path: '^api-shim/contracts/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'shared-contracts-no-shim-code',
      severity: 'error',
      from: { path: '^api-shim/contracts/' },
      to: { path: '^(src/cli|src/node|api-shim/(?!contracts/))' },
    },
    {
      name: 'shim-no-cli',
      comment: 'The shim guards, forwards and runs jobs; the CLI starts it, not the other way round.',
      severity: 'error',
      from: { path: '^api-shim/' },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|out)/' },
    // The files cruised are esbuild's JS of the .ts sources (scripts/check-layers.mjs).
  },
};
