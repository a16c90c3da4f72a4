/**
 * Turns one request frame into one response (S3.2, S3.3). Knows nothing of sockets: the IPC
 * server feeds it frames and writes back what it returns, and unit tests drive it in memory.
 * It never loads zod itself — the daemon passes its instance in (see shared/defineMethod.ts).
 */
import type { z } from 'zod';
import type { MethodDef, MethodSchemas, ParsedParamsOf, ResultOf, Zod } from '../../shared/defineMethod.js';
import { ShadowError, toShadowError } from '../../shared/errors.js';
import type { WireError } from '../../shared/errors.js';
import { EVENT_NAMES } from '../../shared/events.js';
import { ALL_METHODS, Hello, Subscribe } from '../../shared/methods/index.js';
import { PROTOCOL_VERSION } from '../../shared/wire.js';
import type { RequestId, WireEvent, WireResponse } from '../../shared/wire.js';

/** One client connection as the dispatcher sees it. */
export interface Session {
  /** Unique per server, for logs. */
  readonly id: number;
  /** Set once `hello` succeeded; every other method requires it. */
  helloDone: boolean;
  /** Event names this connection receives; null until it subscribes. */
  subscriptions: Set<string> | null;
  /** Pushes an event to this connection; must not throw when the connection is gone. */
  send(message: WireEvent): void;
}

/** Passed to every handler. */
export interface RequestContext {
  /** The connection the request came on. */
  session: Session;
}

/** What the dispatcher logs through (a pino logger fits). */
export interface DispatcherLogger {
  /** Unexpected handler failures. */
  warn(obj: object, msg: string): void;
  /** Rejected requests (bad input from a client). */
  debug?(obj: object, msg: string): void;
}

/** Options of a Dispatcher. */
export interface DispatcherOptions {
  /** The zod namespace used to build every method's schemas (once). */
  zod: Zod;
  /** The daemon's part of the hello result; `protocol` is filled in by the dispatcher. */
  hello: () => Omit<ResultOf<typeof Hello>, 'protocol'>;
  /** Where handler failures are reported. */
  logger?: DispatcherLogger;
  /** Validate every result against its schema (tests, debug); a mismatch becomes INTERNAL. */
  validateResults?: boolean;
  /** Methods the daemon declares; default ALL_METHODS. */
  methods?: readonly MethodDef[];
}

/** A handler as stored: params already validated. */
type AnyHandler = (params: unknown, ctx: RequestContext) => unknown;

interface Entry {
  def: MethodDef;
  schemas: MethodSchemas<z.ZodType, z.ZodType>;
  handler: AnyHandler | null;
}

const MAX_ID_LENGTH = 200;
const BUILT_IN = new Set<string>([Hello.name, Subscribe.name]);

/** Routes validated requests to handlers and turns every failure into a wire error. */
export class Dispatcher {
  private readonly entries = new Map<string, Entry>();
  private readonly opts: DispatcherOptions;

  constructor(opts: DispatcherOptions) {
    this.opts = opts;
    for (const def of opts.methods ?? ALL_METHODS) this.addEntry(def);
    // hello and subscribe are part of the protocol itself, whatever the method list says.
    this.addEntry(Hello).handler = (params, ctx) => this.hello(params as ParsedParamsOf<typeof Hello>, ctx);
    this.addEntry(Subscribe).handler = (params, ctx) => this.subscribe(params as ParsedParamsOf<typeof Subscribe>, ctx);
  }

  /** Registers the handler of `method` (declaring the method if it was not in the list). */
  handle<M extends MethodDef>(method: M, handler: (params: ParsedParamsOf<M>, ctx: RequestContext) => Promise<ResultOf<M>> | ResultOf<M>): void {
    if (BUILT_IN.has(method.name)) throw new ShadowError('INTERNAL', `${method.name} is built into the dispatcher`, { method: method.name });
    this.addEntry(method).handler = handler as AnyHandler;
  }

  /** Declared methods that have no handler yet. */
  missingHandlers(): string[] {
    return [...this.entries.values()].filter((e) => !e.handler).map((e) => e.def.name);
  }

  /**
   * Answers one frame. Never throws. Everything up to the handler call is synchronous, so a
   * pipelined `hello` has marked the session before the next frame is dispatched.
   */
  async dispatch(frame: string, session: Session): Promise<WireResponse> {
    let id: RequestId | null = null;
    let method: string | undefined;
    try {
      const request = parseJsonObject(frame);
      id = readId(request);
      if (typeof request.method !== 'string') {
        throw new ShadowError('INVALID_REQUEST', 'Request "method" must be a string', { field: 'method', got: typeof request.method });
      }
      method = request.method;
      const entry = this.entries.get(method);
      if (!entry) {
        const known = [...this.entries.keys()].sort();
        throw new ShadowError('UNKNOWN_METHOD', `Unknown method "${method}"; known: ${known.join(', ')}`, { method, known });
      }
      if (!session.helloDone && method !== Hello.name) {
        throw new ShadowError('HANDSHAKE_REQUIRED', `"${method}" sent before the hello handshake; send "hello" first`, { method });
      }
      const params = validateParams(entry, request.params === undefined ? {} : request.params);
      const handler = entry.handler;
      if (!handler) throw new ShadowError('INTERNAL', `Method "${method}" has no handler in this daemon`, { method });
      const result = (await handler(params, { session })) ?? null;
      if (this.opts.validateResults) this.checkResult(entry, result);
      return { id, result };
    } catch (err) {
      return { id, error: this.toWireError(err, method, session) };
    }
  }

  private addEntry(def: MethodDef): Entry {
    const existing = this.entries.get(def.name);
    if (existing) return existing;
    const entry: Entry = { def, schemas: def.schemas(this.opts.zod), handler: null };
    this.entries.set(def.name, entry);
    return entry;
  }

  private hello(params: ParsedParamsOf<typeof Hello>, ctx: RequestContext): ResultOf<typeof Hello> {
    if (params.protocol !== PROTOCOL_VERSION) {
      throw new ShadowError(
        'PROTOCOL_MISMATCH',
        `Client speaks protocol ${params.protocol}, this daemon speaks ${PROTOCOL_VERSION}`,
        { client: params.protocol, daemon: PROTOCOL_VERSION },
      );
    }
    ctx.session.helloDone = true;
    return { ...this.opts.hello(), protocol: PROTOCOL_VERSION };
  }

  private subscribe(params: ParsedParamsOf<typeof Subscribe>, ctx: RequestContext): ResultOf<typeof Subscribe> {
    const known: readonly string[] = EVENT_NAMES;
    const wanted = params.events ?? [...EVENT_NAMES];
    const unknown = wanted.filter((e) => !known.includes(e));
    if (unknown.length > 0) {
      throw new ShadowError('INVALID_PARAMS', `Unknown event name(s) ${unknown.join(', ')}; known: ${known.join(', ')}`, {
        method: Subscribe.name,
        unknown,
        known: [...known],
      });
    }
    // A later subscribe replaces the set; an empty list unsubscribes.
    ctx.session.subscriptions = new Set(wanted);
    return { events: [...ctx.session.subscriptions] };
  }

  private checkResult(entry: Entry, result: unknown): void {
    const parsed = entry.schemas.result.safeParse(result);
    if (!parsed.success) {
      throw new ShadowError('INTERNAL', `Handler of "${entry.def.name}" returned a result that fails its schema`, {
        method: entry.def.name,
        issues: formatIssues(parsed.error.issues),
      });
    }
  }

  private toWireError(err: unknown, method: string | undefined, session: Session): WireError {
    if (err instanceof ShadowError) {
      this.opts.logger?.debug?.({ session: session.id, method, code: err.code, details: err.details }, err.message);
      return err.toWire();
    }
    this.opts.logger?.warn({ session: session.id, method, err }, `handler of ${method ?? '?'} failed`);
    return toShadowError(err, { method }).toWire();
  }
}

function parseJsonObject(frame: string): Record<string, unknown> {
  let message: unknown;
  try {
    message = JSON.parse(frame);
  } catch (err) {
    throw new ShadowError('PARSE_ERROR', `Frame is not valid JSON: ${(err as Error).message}`, { bytes: Buffer.byteLength(frame) });
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    const got = message === null ? 'null' : Array.isArray(message) ? 'array' : typeof message;
    throw new ShadowError('INVALID_REQUEST', `A request must be a JSON object {id, method, params}, got ${got}`, { got });
  }
  return message as Record<string, unknown>;
}

function readId(request: Record<string, unknown>): RequestId {
  const id = request.id;
  if ((typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.length <= MAX_ID_LENGTH)) return id;
  const got = id === null ? 'null' : typeof id === 'string' ? `string of ${id.length} characters` : typeof id;
  throw new ShadowError('INVALID_REQUEST', `Request "id" must be a number or a string of at most ${MAX_ID_LENGTH} characters, got ${got}`, {
    field: 'id',
    got,
  });
}

function validateParams(entry: Entry, params: unknown): unknown {
  const parsed = entry.schemas.params.safeParse(params);
  if (parsed.success) return parsed.data;
  const issues = formatIssues(parsed.error.issues);
  const first = issues[0];
  const where = first ? describeIssue(first) : '';
  throw new ShadowError('INVALID_PARAMS', `Invalid params for "${entry.def.name}": ${where}`, { method: entry.def.name, issues });
}

/** One validation issue on the wire. */
interface IssueOut {
  path: (string | number)[];
  message: string;
  code: string;
  keys?: string[];
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): IssueOut[] {
  return issues.map((i) => {
    const out: IssueOut = { path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message, code: i.code };
    if (i.code === 'unrecognized_keys') out.keys = [...i.keys];
    return out;
  });
}

function describeIssue(issue: IssueOut): string {
  const at = issue.keys ? issue.path.concat(issue.keys[0] ?? []) : issue.path;
  return at.length > 0 ? `${at.join('.')}: ${issue.message}` : issue.message;
}

/** Sends `event` to every session that completed hello and subscribed to it; returns how many. */
export function broadcast(sessions: Iterable<Session>, event: WireEvent): number {
  let sent = 0;
  for (const s of sessions) {
    if (s.helloDone && s.subscriptions?.has(event.event)) {
      s.send(event);
      sent++;
    }
  }
  return sent;
}
