/**
 * The wording of inotify exhaustion (issue #5, S1.4, S7): which errors count as a limit, what
 * `status` says and what the one log warning tells the user to run. The behaviour itself is
 * tested against real limits in test/integration/inotifyLimit.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { statusLines } from '../../client/cli/commands/status.js';
import { makeStyle } from '../../client/cli/output.js';
import { watchLimitAdvice, watchLimitCode, watchLimitReason } from '../../daemon/watcher/watchLimit.js';
import type { ResultOf } from '../../shared/defineMethod.js';
import type { Status } from '../../shared/methods/index.js';

describe('inotify limit wording (S1.4, S7)', () => {
  it('S1.4: ENOSPC and EMFILE are limits; other errors and non-errors are not', () => {
    expect(watchLimitCode(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe('ENOSPC');
    expect(watchLimitCode({ code: 'EMFILE' })).toBe('EMFILE');
    expect(watchLimitCode(Object.assign(new Error('x'), { code: 'EACCES' }))).toBeNull();
    expect(watchLimitCode(new Error('no code'))).toBeNull();
    expect(watchLimitCode(undefined)).toBeNull();
    expect(watchLimitCode(null)).toBeNull();
  });

  it('S1.4: the reason and the warning name the sysctl to raise; the warning says how often auto snapshots poll', () => {
    expect(watchLimitReason('ENOSPC')).toContain('fs.inotify.max_user_watches');
    expect(watchLimitReason('EMFILE')).toContain('fs.inotify.max_user_instances');
    const enospc = watchLimitAdvice('ENOSPC', 2000);
    expect(enospc).toContain('sudo sysctl fs.inotify.max_user_watches=');
    expect(enospc).toContain('every 2 s');
    expect(watchLimitAdvice('EMFILE', 300)).toContain('sudo sysctl fs.inotify.max_user_instances=');
    expect(watchLimitAdvice('EMFILE', 300)).toContain('every 1 s');
    expect(watchLimitAdvice('ENOSPC', null)).not.toContain('auto snapshots');
  });

  it('S7: status shows the scanning backend and its reason; a daemon without the field reads as before', () => {
    const base: ResultOf<typeof Status> = {
      daemon: { pid: 1, workspace: '/w', socket: 's', version: '0.1.0', stateDir: '/w/.shadow', uptimeMs: 1000 },
      run: null,
      watcher: { mode: 'scan', pending: 0, reason: watchLimitReason('ENOSPC'), backend: 'scanning' },
      lastCheckpoint: null,
      files: 0,
    };
    const style = makeStyle(false);
    const line = (s: ResultOf<typeof Status>): string | undefined => statusLines(s, style, Date.now()).find((l) => l.startsWith('Watcher'));
    expect(line(base)).toBe(`Watcher     scanning, no file events: every checkpoint rescans (${watchLimitReason('ENOSPC')})`);
    expect(line({ ...base, watcher: { mode: 'events', pending: 1, reason: null, backend: 'inotify' } })).toBe('Watcher     watching, 1 change pending');
    expect(line({ ...base, watcher: { mode: 'events', pending: 0, reason: null } })).toBe('Watcher     watching, 0 changes pending');
  });
});
