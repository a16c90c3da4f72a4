#!/usr/bin/env node
/**
 * Bundles the built CLI (dist/client/cli/main.js, from tsc) into one CommonJS file,
 * dist/client/shadowctl.cjs: the `shadowctl` bin. Git hooks and editors run it many times a
 * minute, and Node 20's ES module loader costs ≈ 10 ms more than one CommonJS file for the CLI's
 * ~20 modules (docs/BENCHMARKS.md, "Bundling the CLI"). Packages stay external (required only
 * by the commands that need them, e.g. `mcp`), but for the small pure-JS hash of the socket name.
 * The bundle sits in dist/client/ beside the modules it replaces, so
 * `new URL('../daemon/main.js', import.meta.url)` resolves the same from either (import.meta.url
 * is the bundle's own URL in it).
 */
import { readFileSync } from 'node:fs';
import { buildSync } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Bundled in, not required: the socket name's SHA-256 (node:crypto would cost ≈ 3.5 ms to load). */
const BUNDLED = new Set(['@noble/hashes']);
const deps = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).dependencies);

buildSync({
  entryPoints: [join(ROOT, 'dist/client/cli/main.js')],
  outfile: join(ROOT, 'dist/client/shadowctl.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: deps.filter((d) => !BUNDLED.has(d)).flatMap((d) => [d, `${d}/*`]),
  inject: [join(ROOT, 'scripts/bundleCliMetaUrl.js')],
  define: { 'import.meta.url': 'importMetaUrl' },
  logLevel: 'warning',
});
