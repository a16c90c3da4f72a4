import { describe, it, expect, afterEach } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { IpcEnv } from '../fixtures/ipcEnv.js';
import { ERROR_CODES } from '../../shared/errors.js';
import { EVENT_NAMES } from '../../shared/events.js';
import { ALL_METHODS } from '../../shared/methods/index.js';
import { MAX_REQUEST_BYTES, PROTOCOL_VERSION } from '../../shared/wire.js';

const PY_CLIENT = fileURLToPath(new URL('../fixtures/shadow_client.py', import.meta.url));

let env: IpcEnv;
afterEach(() => env?.cleanup());

describe('a non-TypeScript client (S3.4)', () => {
  it('S3.4 a stdlib-only Python client written from docs/PROTOCOL.md speaks the protocol', async () => {
    env = new IpcEnv();
    const { child } = await env.startDaemon();
    // The Python side computes the socket path itself from the workspace and SHADOW_RUNTIME_DIR.
    const { stdout } = await promisify(execFile)('python3', [PY_CLIENT, env.workspace], { env: env.env, timeout: 30_000 });
    const steps = Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { step: string; response: unknown })
        .map((s) => [s.step, s.response]),
    ) as Record<string, Record<string, unknown>>;

    expect(steps['before-hello']).toMatchObject({ id: 1, error: { code: 'HANDSHAKE_REQUIRED' } });
    expect(steps.hello).toMatchObject({ id: 1, result: { protocol: 1, pid: child.pid, workspace: env.workspace } });
    expect(steps.status).toMatchObject({ id: 2, result: { daemon: { pid: child.pid } } });
    expect(steps.subscribe).toMatchObject({ result: { events: ['checkpoint'] } });
    expect(steps['checkpoint-fast']).toMatchObject({ result: { ref: 'refs/shadow/manual' } });
    expect(steps['checkpoint-slow']).toMatchObject({ result: { ref: 'refs/shadow/manual' } });
    expect(steps.events).toHaveLength(2);
    expect(steps['unknown-method']).toMatchObject({ error: { code: 'UNKNOWN_METHOD', details: { method: 'frobnicate' } } });
    expect(steps['bad-params']).toMatchObject({ error: { code: 'INVALID_PARAMS', details: { issues: [{ path: ['n'] }] } } });
    expect(steps['not-found']).toMatchObject({ error: { code: 'CHECKPOINT_NOT_FOUND' } });
    expect(steps.garbage).toMatchObject({ id: null, error: { code: 'INVALID_REQUEST' } });
    expect(steps['still-alive']).toBe(child.pid);
    expect(steps['protocol-mismatch']).toMatchObject({ error: { code: 'PROTOCOL_MISMATCH', details: { client: 999, daemon: 1 } } });
  });

  it('S3.4 docs/PROTOCOL.md documents every method, error code and event of this build', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/PROTOCOL.md', import.meta.url)), 'utf8');
    for (const m of ALL_METHODS) expect(doc, m.name).toContain(`### ${m.name} — `);
    for (const code of Object.keys(ERROR_CODES)) expect(doc, code).toContain(`\`${code}\``);
    for (const e of EVENT_NAMES) expect(doc, e).toContain(`\`${e}\``);
    expect(doc).toContain(`version ${PROTOCOL_VERSION}`);
    expect(doc).toContain(MAX_REQUEST_BYTES.toLocaleString('en-US').replace(/,/g, ' '));
  });
});
