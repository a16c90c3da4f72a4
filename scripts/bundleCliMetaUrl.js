// Injected into the CommonJS CLI bundle (scripts/bundleCli.mjs) as the value of import.meta.url:
// this file only ever runs inside that bundle, where require and __filename exist.
/* global require, __filename */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
