// Runs the TypeScript sources directly (no build step), so `npm install && npm run demo` works on a
// fresh clone. A compiled `dist/` is used instead when present (`npm run build`).
'use strict';
const path = require('node:path');
const fs = require('node:fs');

function resolveEntry(tsRelative) {
  const root = path.resolve(__dirname, '..');
  const compiled = path.join(root, 'dist', tsRelative.replace(/\.ts$/, '.js'));
  if (fs.existsSync(compiled)) return compiled;
  process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(root, 'tsconfig.json');
  require('@swc-node/register');
  return path.join(root, tsRelative);
}

module.exports = { resolveEntry };
