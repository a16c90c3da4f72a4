/**
 * Recognises inotify exhaustion and words it for people. On Linux, fs.watch fails with ENOSPC
 * when the user's inotify watches run out (fs.inotify.max_user_watches, or the per user
 * namespace /proc/sys/user/max_inotify_watches in containers) and with EMFILE when inotify
 * instances (max_user_instances) or the process's descriptors run out. Either way events can no
 * longer be trusted, and the user can fix it only if told which knob to turn.
 */

/** The two fs.watch error codes that mean "a system limit was reached". */
export type WatchLimitCode = 'ENOSPC' | 'EMFILE';

/** The limit code of an error from fs.watch or chokidar, or null for any other error. */
export function watchLimitCode(err: unknown): WatchLimitCode | null {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return code === 'ENOSPC' || code === 'EMFILE' ? code : null;
}

/** Short reason for `status` (watcher.reason): what ran out and which setting raises it. */
export function watchLimitReason(code: WatchLimitCode): string {
  return code === 'ENOSPC'
    ? 'inotify watch limit reached (ENOSPC); raise fs.inotify.max_user_watches'
    : 'inotify instance or open-file limit reached (EMFILE); raise fs.inotify.max_user_instances or ulimit -n';
}

/** The one warning the daemon log gets: the limit, the consequence and how to raise it. */
export function watchLimitAdvice(code: WatchLimitCode, pollMs: number | null): string {
  const raise =
    code === 'ENOSPC'
      ? 'raise it with `sudo sysctl fs.inotify.max_user_watches=524288` (persist it in /etc/sysctl.d/; in a container the per-namespace /proc/sys/user/max_inotify_watches applies too)'
      : 'raise it with `sudo sysctl fs.inotify.max_user_instances=1024` (persist it in /etc/sysctl.d/; in a container the per-namespace /proc/sys/user/max_inotify_instances applies too) or raise the open-file limit (ulimit -n)';
  const auto = pollMs === null ? '' : ` and auto snapshots poll it every ${Math.max(1, Math.round(pollMs / 1000))} s or more`;
  return (
    `inotify limit reached (${code}): the watcher falls back to scanning. No change is missed: every checkpoint ` +
    `rescans the whole workspace (slower)${auto}. ` +
    `To get file events back, ${raise}, then restart the daemon (shadowctl daemon stop).`
  );
}
