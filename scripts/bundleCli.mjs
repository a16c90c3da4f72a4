#!/usr/bin/env node
/**
 * Bundles the built CLI (dist/client/cli/main.js, from tsc) into one CommonJS file,
 * dist/client/shadowctl.cjs: the `shadowctl` bin. Git hooks and editors run it many times a
 * minute, and Node 20's ES module loader costs ≈ 10 ms more than one CommonJS file for the CLI's
 * ~20 modules (docs/BENCHMARKS.md, "Bundling the CLI"). Packages stay external (required only
 * by the commands that need them, e.g. `mcp`). The bundle sits in dist/client/ beside the
 * modules it replaces, so `new URL('../daemon/main.js', import.meta.url)` resolves the same
 * from either (import.meta.url is the bundle's own URL in it).
 */
import { buildSync } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

buildSync({
  entryPoints: [join(ROOT, 'dist/client/cli/main.js')],
  outfile: join(ROOT, 'dist/client/shadowctl.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  inject: [join(ROOT, 'scripts/bundleCliMetaUrl.js')],
  define: { 'import.meta.url': 'importMetaUrl' },
  logLevel: 'warning',
});
