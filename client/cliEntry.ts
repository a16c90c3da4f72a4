import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the shipped `shadowctl` (dist/client/shadowctl.cjs, scripts/bundleCli.mjs).
 * This module sits in dist/client/ as the bundle does, so the path is the same from either.
 */
export function cliEntryPath(): string {
  return fileURLToPath(new URL('./shadowctl.cjs', import.meta.url));
}
