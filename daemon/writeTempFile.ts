/** Whole-file writes that a crash can never leave half done: write a private temp file first. */
import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Writes `text` to a temp file beside `path` (same directory, so a rename or link is atomic)
 * and returns the temp file's path; the caller renames or links it into place.
 */
export function writeTempFile(path: string, text: string, mode = 0o600): string {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return tmp;
}
