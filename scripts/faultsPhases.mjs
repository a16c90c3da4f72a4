/**
 * The operations the fault-injection harness kills the daemon in (issues #5, #10): a checkpoint
 * after many edits, a ref update (a checkpoint of one edit: the ref lock dominates), a restore of
 * an older checkpoint over the whole tree, the cancel of a run (remove_all or rollback) that
 * owns a process, and `replay`: a cancel killed anywhere from its verifying rescan on, the user
 * writing files before anything restarts the daemon, sometimes the replay itself killed and more
 * writes, then a clean start (S1.1a: nothing written after the crash may be lost). Each `prepare` changes the tree, then says which tree states are allowed after
 * a kill and how to send the request; `points` are the daemon/faultPoint.ts names it can die at.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitRun, nativeTree, treeOf, treeWithFiles } from './faultsVerify.mjs';

/** Writes files data/d<i%50>/f<i>.txt for i in [from, from+count), each holding `tag`. */
export function fill(dir, count, tag, from = 0) {
  for (let i = from; i < from + count; i++) {
    const d = join(dir, 'data', `d${i % 50}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), `${tag} ${i}\n`);
  }
}

/** An integer in [lo, hi]. */
const between = (rng, lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
/** One element of `list`. */
const pick = (rng, list) => list[Math.floor(rng() * list.length)];

/** Restores write or remove files+100 paths and the pre-abort commit hashes up to `files` blobs: the n-th of them. */
function numberedByFile(ctx, name, rng) {
  if (name === 'restore.apply-step' || name === 'restore.before-recheck') return `${name}#${between(rng, 1, ctx.files + 100)}`;
  if (name === 'restore.temp-written' || name === 'object.temp-written') return `${name}#${between(rng, 1, ctx.files)}`;
  return name;
}

/**
 * Phase definitions, by name. `spec` draws the SHADOW_FAULT_KILL_AT value for a point; the
 * daemon is armed before `prepare`, whose own requests never reach the phase's points.
 * `ctx`: { dir, env, files, m (the client module), client, recorded: commit[], children, base }.
 */
export const PHASES = {
  checkpoint: {
    points: ['object.temp-written', 'ref.locked', 'ref.renamed'],
    spec: (ctx, name, rng) => (name === 'object.temp-written' ? `${name}#${between(rng, 1, Math.floor(ctx.files / 5))}` : name),
    setup(ctx) {
      fill(ctx.dir, ctx.files, 'v0');
    },
    /** Edits a fifth of the files and adds 20: the checkpoint hashes and writes them all. */
    prepare(ctx, round, rng) {
      const edits = Math.floor(ctx.files / 5);
      const start = between(rng, 0, ctx.files - edits);
      fill(ctx.dir, edits, `c${round}`, start);
      fill(ctx.dir, 20, `new${round}`, ctx.files + round * 20);
      return {
        allowed: { untouched: nativeTree(ctx.dir, ctx.env) },
        send: (client) => client.request(ctx.m.Checkpoint, { message: `faults round ${round}` }),
        record: (r) => [r.commit],
      };
    },
  },

  ref: {
    points: ['ref.locked', 'ref.renamed', 'object.temp-written'],
    spec: (ctx, name, rng) => (name === 'object.temp-written' ? `${name}#${between(rng, 1, 3)}` : name),
    setup(ctx) {
      fill(ctx.dir, 200, 'v0');
    },
    /** One edit: three objects, then the ref update under its `.lock`. */
    prepare(ctx, round, rng) {
      fill(ctx.dir, 1, `r${round}`, between(rng, 0, 199));
      return {
        allowed: { untouched: nativeTree(ctx.dir, ctx.env) },
        send: (client) => client.request(ctx.m.Checkpoint, { message: `ref round ${round}` }),
        record: (r) => [r.commit],
      };
    },
  },

  restore: {
    points: ['object.temp-written', 'ref.renamed', 'restore.journal-written', 'restore.apply-step', 'restore.temp-written'],
    spec: numberedByFile,
    setup(ctx) {
      fill(ctx.dir, ctx.files, 'v0');
    },
    /** The first request of the phase checkpoints the v0 tree: every round restores it. */
    async prepare(ctx, round) {
      if (!ctx.base) {
        const c = await ctx.client.request(ctx.m.Checkpoint, { message: 'restore target' });
        ctx.recorded.push(c.commit);
        ctx.base = c.commit;
      }
      // Every file differs from the target and 100 are new: the restore rewrites or removes them all.
      fill(ctx.dir, ctx.files, `v${round + 1}`);
      fill(ctx.dir, 100, `new${round}`, ctx.files);
      return {
        allowed: { target: treeOf(ctx.dir, ctx.env, ctx.base), 'pre-abort': nativeTree(ctx.dir, ctx.env) },
        send: (client) => client.request(ctx.m.Restore, { checkpoint: ctx.base }),
        record: (r) => [r.preRestore],
      };
    },
  },

  cancel: {
    points: ['cancel.terminated', 'cancel.before-tree', 'restore.journal-written', 'restore.apply-step', 'restore.temp-written'],
    spec: numberedByFile,
    setup(ctx) {
      fill(ctx.dir, ctx.files, 'v0');
    },
    /** A run owning a `sleep` process, with (for rollback) a checkpoint inside it; then every file changed. */
    async prepare(ctx, round, rng) {
      const { m, client } = ctx;
      const action = pick(rng, ['remove_all', 'rollback']);
      const s = await client.request(m.RunStart, { name: `faults-${round}` });
      ctx.recorded.push(s.base);
      let target = s.base;
      if (action === 'rollback') {
        fill(ctx.dir, Math.floor(ctx.files / 10), `cp${round}`);
        const c = await client.request(m.Checkpoint, { run: s.run });
        ctx.recorded.push(c.commit);
        target = c.commit;
      }
      const child = spawn('sleep', ['600'], { stdio: 'ignore' });
      ctx.children.push(child);
      await client.request(m.RunRegister, { run: s.run, pid: child.pid });
      fill(ctx.dir, ctx.files, `run${round}`);
      fill(ctx.dir, 100, `new${round}`, ctx.files);
      return {
        run: s.run,
        allowed: { target: treeOf(ctx.dir, ctx.env, target), 'pre-abort': nativeTree(ctx.dir, ctx.env) },
        send: (c) => c.request(m.Cancel, { run: s.run, action }),
        record: (r) => (r.preAbort ? [r.preAbort] : []),
        /** After recovery the run is over (never left `running` or `cancelling`), and its process is gone. */
        async check(c) {
          const problems = [];
          const run = (await c.request(m.RunGet, { run: s.run })).run;
          if (!['cancelled', 'interrupted', 'failed'].includes(run.status)) problems.push(`run ${s.run} is ${run.status} after recovery`);
          if (run.preAbort) ctx.recorded.push(run.preAbort);
          child.kill('SIGKILL');
          return problems;
        },
      };
    },
  },

  replay: {
    points: ['restore.before-verify', 'restore.pre-abort-taken', 'restore.journal-written', 'restore.apply-step', 'restore.before-recheck', 'restore.temp-written'],
    spec: numberedByFile,
    setup(ctx) {
      fill(ctx.dir, ctx.files, 'v0');
    },
    /** A run that changed every file and made 100; its cancel (remove_all) is killed. */
    async prepare(ctx, round) {
      const { m, client } = ctx;
      fill(ctx.dir, ctx.files, 'v0'); // the previous round's later writes are not this run's work
      const s = await client.request(m.RunStart, { name: `replay-${round}` });
      ctx.recorded.push(s.base);
      fill(ctx.dir, ctx.files, `run${round}`);
      fill(ctx.dir, 100, `new${round}`, ctx.files);
      const op = {
        run: s.run,
        allowed: { target: treeOf(ctx.dir, ctx.env, s.base), 'pre-abort': nativeTree(ctx.dir, ctx.env) },
        send: (c) => c.request(m.Cancel, { run: s.run, action: 'remove_all' }),
        record: (r) => (r.preAbort ? [r.preAbort] : []),
        /** Between the crash and the restart the user writes files; a replay may be killed too, then more writes. */
        async afterKill(rng, connect) {
          const journal = join(ctx.dir, '.git', 'shadow', 'journal.json');
          const replays = existsSync(journal);
          const written = userWrites(ctx, round, 0, rng);
          op.found = [];
          if (replays && rng() < 0.5) {
            // Killed again, during the replay (its verifying rescan, its pre-abort, its restore).
            const at = pick(rng, ['restore.before-verify', 'replay.pre-abort-taken', `restore.apply-step#${between(rng, 1, ctx.files)}`, `restore.before-recheck#${between(rng, 1, ctx.files)}`]);
            op.replayKill = at;
            const before = foundTree(ctx);
            await connect({ ...ctx.env, SHADOW_FAULT_KILL_AT: at }).then(
              () => stopQuietly(ctx),
              () => undefined,
            );
            ctx.client = null;
            // A replay that got through took its pre-abort of the tree it found.
            if (!existsSync(journal)) op.found.push(before);
            written.push(...userWrites(ctx, round, 1, rng));
          }
          if (existsSync(journal)) op.found.push(foundTree(ctx));
          // A replay leaves the target with every later write as it is; with no journal nothing is restored.
          op.allowed = replays ? { target: treeWithFiles(ctx.dir, ctx.env, s.base, written) } : { untouched: nativeTree(ctx.dir, ctx.env) };
        },
        /** The run is over, and a replay's pre-abort commit holds the tree it found (the later writes). */
        async check(c) {
          const problems = [];
          const run = (await c.request(m.RunGet, { run: s.run })).run;
          if (!['cancelled', 'interrupted', 'failed'].includes(run.status)) problems.push(`run ${s.run} is ${run.status} after recovery`);
          if (run.preAbort) ctx.recorded.push(run.preAbort);
          const trees = gitRun(ctx.dir, ctx.env, ['log', '--format=%T', 'refs/shadow/undo']).stdout.split('\n');
          for (const found of op.found ?? []) {
            if (!trees.includes(found)) problems.push(`no pre-abort commit holds the tree a replay found (${found}${op.replayKill ? `, a replay killed at ${op.replayKill}` : ''})`);
          }
          return problems;
        },
      };
      return op;
    },
  },
};

/**
 * The tree a replay finds and commits first: the disk without the `.shadow-tmp-*` files a kill
 * left (the replay removes them before its pre-abort commit; they hold the target's bytes).
 */
function foundTree(ctx) {
  const exclude = join(ctx.rt, 'replay-exclude');
  writeFileSync(exclude, '.shadow-tmp-*\n');
  return nativeTree(ctx.dir, { ...ctx.env, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'core.excludesFile', GIT_CONFIG_VALUE_0: exclude });
}

/** Files the user writes after a crash: 10 existing ones get new content, 3 new ones appear; returns their paths. */
function userWrites(ctx, round, pass, rng) {
  const paths = [];
  for (let i = 0; i < 10; i++) {
    const n = between(rng, 0, ctx.files - 1);
    const rel = join('data', `d${n % 50}`, `f${n}.txt`);
    writeFileSync(join(ctx.dir, rel), `user after the crash ${round}.${pass}.${i}\n`);
    paths.push(rel);
  }
  for (let i = 0; i < 3; i++) {
    const rel = join('later', `r${round}-p${pass}-${i}.txt`);
    mkdirSync(join(ctx.dir, 'later'), { recursive: true });
    writeFileSync(join(ctx.dir, rel), `new after the crash ${round}.${pass}.${i}\n`);
    paths.push(rel);
  }
  return paths;
}

/** Stops the daemon the context's client talks to (the armed one survived its start), and waits for its end. */
async function stopQuietly(ctx) {
  const c = ctx.client;
  if (!c) return;
  const pid = c.hello.pid;
  await c.request(ctx.m.Shutdown, {}, { timeoutMs: 20_000 }).catch(() => null);
  c.close();
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
}
