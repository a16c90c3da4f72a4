/**
 * The text of one Shadow git hook (S8): a POSIX sh script that asks the workspace's daemon for a
 * checkpoint (never starting one, bounded in time, silent, never failing git), then hands over to
 * the hook that was there before, with the same arguments and stdin, whose status becomes ours.
 */

/** The hooks Shadow installs: those that run around git rewriting the working tree. */
export const SHADOW_HOOKS = ['pre-rebase', 'post-checkout', 'post-merge', 'pre-commit'] as const;

/** One hook name Shadow installs. */
export type ShadowHookName = (typeof SHADOW_HOOKS)[number];

/** The line that marks a hook as ours: install and uninstall only ever touch files carrying it. */
export const HOOK_MARKER = '# shadow-hook: installed by `shadowctl hooks install`';

/** Suffix of the renamed original hook that ours chains to. */
export const ORIGINAL_SUFFIX = '.shadow-orig';

/** Seconds a hook waits for its checkpoint before letting git go on (SHADOW_HOOK_TIMEOUT overrides). */
export const HOOK_TIMEOUT_SECONDS = 10;

/** The checkpoint subject each hook writes: pre-hooks run before git moves files, post-hooks after. */
export const HOOK_MESSAGES: Record<ShadowHookName, string> = {
  'pre-rebase': 'before git rebase',
  'pre-commit': 'before git commit',
  'post-checkout': 'after git checkout',
  'post-merge': 'after git merge',
};

/** Where the hook finds shadowctl: absolute paths fixed at install time (PATH may differ under git). */
export interface HookRunner {
  /** Absolute path of the node binary (process.execPath). */
  node: string;
  /** Absolute path of the CLI entry (dist/client/shadowctl.cjs). */
  cli: string;
}

/** Quotes `s` for sh: single quotes, with each `'` spelled `'\''`. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** True when a hook file's text is one of ours. */
export function isShadowHook(text: string): boolean {
  return text.split('\n', 3).includes(HOOK_MARKER);
}

/**
 * The script for `hook`. Deterministic for the same inputs, so installing twice writes the same
 * bytes. The checkpoint runs in the background with a watchdog (no `timeout(1)` on every system);
 * every descriptor of both goes to /dev/null so neither can hold git's pipes open after we return.
 */
export function hookScript(hook: ShadowHookName, runner: HookRunner): string {
  return [
    '#!/bin/sh',
    HOOK_MARKER,
    '# Checkpoints the working tree through the workspace\'s Shadow daemon (never starts one, never',
    `# fails git), then runs the previous hook, ${hook}${ORIGINAL_SUFFIX}, with the same arguments and stdin.`,
    '# `shadowctl hooks uninstall` removes this file and puts the previous hook back.',
    `shadow_node=${shQuote(runner.node)}`,
    `shadow_cli=${shQuote(runner.cli)}`,
    'if [ "${SHADOW_HOOKS:-1}" != 0 ] && [ -x "$shadow_node" ] && [ -f "$shadow_cli" ]; then',
    `  SHADOW_NO_AUTOSTART=1 "$shadow_node" "$shadow_cli" checkpoint -m ${shQuote(HOOK_MESSAGES[hook])} </dev/null >/dev/null 2>&1 &`,
    '  shadow_pid=$!',
    `  ( sleep "\${SHADOW_HOOK_TIMEOUT:-${HOOK_TIMEOUT_SECONDS}}"; kill "$shadow_pid" ) </dev/null >/dev/null 2>&1 &`,
    '  shadow_watchdog=$!',
    '  wait "$shadow_pid"',
    '  kill "$shadow_watchdog" 2>/dev/null',
    'fi',
    `shadow_original="$(dirname "$0")/${hook}${ORIGINAL_SUFFIX}"`,
    'if [ -x "$shadow_original" ]; then exec "$shadow_original" "$@"; fi',
    'exit 0',
    '',
  ].join('\n');
}
