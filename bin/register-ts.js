// Runs the TypeScript sources directly (no build step), so `npm install && npm run demo` works on a
// fresh clone. The compiled `dist/` (`npm run build`) is used where the sources are absent, as in the
// Docker image. Sources win when both exist, so a stale `dist/` never runs instead of edited code.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

function resolveEntry(tsRelative) {
  const root = path.resolve(__dirname, '..');
  const source = path.join(root, tsRelative);
  const compiled = path.join(root, 'dist', tsRelative.replace(/\.ts$/, '.js'));
  if (!fs.existsSync(source) && fs.existsSync(compiled)) return compiled;
  process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(root, 'tsconfig.json');
  require('@swc-node/register');
  return source;
}

module.exports = { resolveEntry };
