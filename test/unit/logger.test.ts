import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createDaemonLogger } from '../../daemon/logger.js';
import { makeTempDir } from '../helpers/tempDir.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir()));
afterEach(() => cleanup());

/** Every JSON line of the live log and its rotated files. */
function allLines(): { msg: string; i: number }[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('daemon.log'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => JSON.parse(l) as { msg: string; i: number });
}

describe('createDaemonLogger (S2.3)', () => {
  it('has all 5 000 lines on disk once close() resolves', async () => {
    const { logger, close } = createDaemonLogger({ logDir: dir, pretty: false, level: 'info', maxSize: 100 * 1024 * 1024, maxFiles: 3 });
    for (let i = 0; i < 5000; i++) logger.info({ i }, 'line');
    await close();
    const lines = allLines();
    expect(lines).toHaveLength(5000);
    expect(lines.map((l) => l.i)).toEqual([...Array(5000).keys()]);
    expect(statSync(join(dir, 'daemon.log')).mode & 0o777).toBe(0o600);
  });

  it('close() is idempotent and logging after it is harmless', async () => {
    const { logger, close } = createDaemonLogger({ logDir: dir, pretty: false, level: 'info', maxSize: 1024 * 1024, maxFiles: 2 });
    logger.info('before');
    await close();
    await close();
    logger.info('after');
    expect(allLines().map((l) => l.msg)).toEqual(['before']);
  });

  it('honours the level', async () => {
    const { logger, close } = createDaemonLogger({ logDir: dir, pretty: false, level: 'warn', maxSize: 1024 * 1024, maxFiles: 2 });
    logger.info('hidden');
    logger.warn('shown');
    await close();
    expect(allLines().map((l) => l.msg)).toEqual(['shown']);
  });

  it('rotates past maxSize and keeps at most maxFiles rotated files', async () => {
    const maxSize = 4096;
    const { logger, close } = createDaemonLogger({ logDir: dir, pretty: false, level: 'info', maxSize, maxFiles: 2 });
    // ~100 bytes a line: 3 000 lines is ~70 rotations' worth.
    for (let i = 0; i < 3000; i++) logger.info({ i }, 'rotation filler line');
    await close();
    const files = readdirSync(dir).filter((f) => f.startsWith('daemon.log')).sort();
    expect(files).toEqual(['daemon.log', 'daemon.log.1', 'daemon.log.2']);
    for (const f of files) {
      // A file rotates on the write that crosses the limit: at most one line over.
      expect(statSync(join(dir, f)).size).toBeLessThan(maxSize + 200);
    }
    // The newest lines survive, in order across the rotated files.
    const kept = [...readFileSync(join(dir, 'daemon.log.2'), 'utf8').split('\n'), ...readFileSync(join(dir, 'daemon.log.1'), 'utf8').split('\n'), ...readFileSync(join(dir, 'daemon.log'), 'utf8').split('\n')]
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(kept.at(-1)).toBe(2999);
    expect(kept).toEqual([...Array(kept.length).keys()].map((k) => k + kept[0]!));
  });

  it('with pretty, still writes every line to the file', async () => {
    const { logger, close } = createDaemonLogger({ logDir: dir, pretty: true, level: 'info', maxSize: 1024 * 1024, maxFiles: 2 });
    logger.info({ i: 1 }, 'pretty line');
    await close();
    expect(allLines().map((l) => l.msg)).toEqual(['pretty line']);
  });
});
