import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Builds dist/ once before any test (tsc, then the CLI bundle): integration tests spawn the built daemon and CLI (Node 20
 * cannot run .ts). SHADOW_SKIP_BUILD=1 skips it when dist/ is known to be fresh.
 */
export default function setup(): void {
  if (process.env.SHADOW_SKIP_BUILD === '1') return;
  // Each vitest project calls it (vitest.config.ts), all in this one process: build once.
  process.env.SHADOW_SKIP_BUILD = '1';
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  // The shipped shadowctl is a bundle of tsc's output (package.json "build").
  execFileSync(process.execPath, [`${root}/scripts/bundleCli.mjs`], { cwd: root, stdio: 'inherit' });
}
