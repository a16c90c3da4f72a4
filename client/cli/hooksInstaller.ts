/**
 * Installs and removes Shadow's git hooks in a hooks directory (S8). Never loses a byte: a hook
 * that was there is renamed (same inode: same bytes, mode, or symlink) to `<hook>.shadow-orig`
 * and chained; uninstall renames it back. Only files carrying HOOK_MARKER are ever replaced or
 * deleted; anything unexpected is left alone and reported as skipped.
 */
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HookRunner, ShadowHookName } from './hookScript.js';
import { ORIGINAL_SUFFIX, SHADOW_HOOKS, hookScript, isShadowHook } from './hookScript.js';

/** A hook left alone, and why. */
export interface SkippedHook {
  /** The hook name. */
  hook: ShadowHookName;
  /** Why it was not touched. */
  reason: string;
}

/** What install did, hook by hook. */
export interface InstallReport {
  /** Hooks written (new, or ours updated to a new script). */
  installed: ShadowHookName[];
  /** Hooks already installed with exactly these bytes. */
  unchanged: ShadowHookName[];
  /** Hooks whose previous hook is kept as `<hook>.shadow-orig` and run by ours. */
  chained: ShadowHookName[];
  /** Hooks not touched. */
  skipped: SkippedHook[];
}

/** What uninstall did, hook by hook. */
export interface UninstallReport {
  /** Our hooks deleted. */
  removed: ShadowHookName[];
  /** Previous hooks put back from `<hook>.shadow-orig`. */
  restored: ShadowHookName[];
  /** Hooks not touched. */
  skipped: SkippedHook[];
}

/** How a path in the hooks directory looks. */
type Entry = { kind: 'missing' } | { kind: 'ours'; text: string } | { kind: 'other' } | { kind: 'directory' };

function inspect(path: string): Entry {
  let isDir: boolean;
  try {
    isDir = lstatSync(path).isDirectory();
  } catch {
    return { kind: 'missing' };
  }
  if (isDir) return { kind: 'directory' };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { kind: 'other' }; // dangling symlink, unreadable: not ours, keep it
  }
  return isShadowHook(text) ? { kind: 'ours', text } : { kind: 'other' };
}

/** Writes an executable file atomically (a half-written hook must never run under git). */
function writeHook(path: string, text: string): void {
  const tmp = `${path}.shadow-tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o755 });
  chmodSync(tmp, 0o755); // the umask may have cleared bits of `mode`
  renameSync(tmp, path);
}

/** Installs every Shadow hook in `hooksDir`, chaining the hooks already there; idempotent. */
export function installHooks(hooksDir: string, runner: HookRunner): InstallReport {
  mkdirSync(hooksDir, { recursive: true });
  const report: InstallReport = { installed: [], unchanged: [], chained: [], skipped: [] };
  for (const hook of SHADOW_HOOKS) {
    const path = join(hooksDir, hook);
    const original = path + ORIGINAL_SUFFIX;
    const script = hookScript(hook, runner);
    const current = inspect(path);
    const kept = inspect(original).kind !== 'missing';
    if (current.kind === 'directory') {
      report.skipped.push({ hook, reason: `${path} is a directory` });
      continue;
    }
    if (current.kind === 'other') {
      if (kept) {
        // Someone put a new hook over ours: renaming it would overwrite the original we keep.
        report.skipped.push({ hook, reason: `both ${path} (not Shadow's) and ${original} exist; move one away and retry` });
        continue;
      }
      renameSync(path, original);
    }
    if (current.kind === 'ours' && current.text === script) report.unchanged.push(hook);
    else {
      writeHook(path, script);
      report.installed.push(hook);
    }
    if (current.kind === 'other' || kept) report.chained.push(hook);
  }
  return report;
}

/** Removes Shadow's hooks from `hooksDir` and puts the originals back exactly as they were. */
export function uninstallHooks(hooksDir: string): UninstallReport {
  const report: UninstallReport = { removed: [], restored: [], skipped: [] };
  for (const hook of SHADOW_HOOKS) {
    const path = join(hooksDir, hook);
    const original = path + ORIGINAL_SUFFIX;
    const current = inspect(path);
    const kept = inspect(original).kind !== 'missing';
    if (current.kind === 'other' || current.kind === 'directory') {
      if (kept) report.skipped.push({ hook, reason: `${path} is not Shadow's hook; ${original} left in place` });
      continue;
    }
    if (current.kind === 'ours') {
      unlinkSync(path);
      report.removed.push(hook);
    }
    if (kept) {
      renameSync(original, path);
      report.restored.push(hook);
    }
  }
  return report;
}
