/** The hook script and hooks-directory lookup in isolation (S8): quoting, chaining, config. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitHooksDir } from '../../client/cli/gitHooksDir.js';
import { hookScript, isShadowHook, shQuote } from '../../client/cli/hookScript.js';
import { makeTempDir } from '../helpers/tempDir.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanups.splice(0)) f();
});

function tempDir(): string {
  const { dir, cleanup } = makeTempDir('shadow-hook-');
  cleanups.push(cleanup);
  return dir;
}

describe('hookScript (S8)', () => {
  it('S8: paths with quotes and spaces survive sh quoting', () => {
    const odd = `it's a "dir" $HOME \\ x`;
    expect(execFileSync('sh', ['-c', `printf %s ${shQuote(odd)}`], { encoding: 'utf8' })).toBe(odd);
  });

  it('S8: a hook whose node is missing skips the checkpoint and still chains args, stdin and status', () => {
    const dir = tempDir();
    const hook = join(dir, 'post-merge');
    writeFileSync(hook, hookScript('post-merge', { node: join(dir, `no 'node`), cli: join(dir, 'main.js') }), { mode: 0o755 });
    writeFileSync(`${hook}.shadow-orig`, `#!/bin/sh\nprintf '%s|' "$@" > "${dir}/out"\ncat >> "${dir}/out"\nexit 7\n`);
    chmodSync(`${hook}.shadow-orig`, 0o755);
    let status = 0;
    try {
      execFileSync(hook, ['1', 'a b'], { input: 'in' });
    } catch (err) {
      status = (err as { status: number }).status;
    }
    expect(status).toBe(7);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('1|a b|in');
    expect(isShadowHook(readFileSync(hook, 'utf8'))).toBe(true);
    expect(isShadowHook('#!/bin/sh\nexit 0\n')).toBe(false);
  });

  it('S8: hooks dir is .git/hooks, or core.hooksPath (relative to the work tree, ~ expanded)', () => {
    const ws = tempDir();
    mkdirSync(join(ws, '.git'));
    const env = { HOME: '/home/u', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '' };
    expect(gitHooksDir(ws, env).hooksDir).toBe(join(ws, '.git', 'hooks'));
    writeFileSync(join(ws, '.git', 'config'), '[core]\n\thooksPath = tools/hooks\n');
    expect(gitHooksDir(ws, env)).toMatchObject({ hooksDir: join(ws, 'tools', 'hooks'), fromHooksPath: true });
    writeFileSync(join(ws, '.git', 'config'), '[core]\n\thooksPath = ~/hooks\n');
    expect(gitHooksDir(ws, env).hooksDir).toBe('/home/u/hooks');
    expect(() => gitHooksDir(tempDir(), env)).toThrow(expect.objectContaining({ code: 'WORKSPACE_INVALID' }));
  });
});
