/**
 * An IPC method is declared once, here in shared/, with its name and its zod schemas.
 * The schemas are built lazily from a zod instance passed in by the daemon, so that the
 * CLI can import a declaration (for its name and types) without loading zod at start-up.
 */
import type { z } from 'zod';

/** The zod namespace, passed to schema builders by whoever validates (the daemon). */
export type Zod = typeof z;

/** Params and result schemas of one method. */
export interface MethodSchemas<P extends z.ZodType, R extends z.ZodType> {
  /** Validates the request's params. */
  params: P;
  /** Describes (and in tests validates) the result. */
  result: R;
}

/** One IPC method: its wire name and a builder for its schemas. */
export interface MethodDef<N extends string = string, P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  /** The method name on the wire. */
  readonly name: N;
  /** Builds the schemas from a zod instance; called once by the daemon. */
  readonly schemas: (zod: Zod) => MethodSchemas<P, R>;
  /** One-line description, used in docs and errors. */
  readonly summary: string;
}

/** Declares a method. */
export function defineMethod<N extends string, P extends z.ZodType, R extends z.ZodType>(
  name: N,
  summary: string,
  schemas: (zod: Zod) => MethodSchemas<P, R>,
): MethodDef<N, P, R> {
  return { name, summary, schemas };
}

/** The params a caller passes to method M. */
export type ParamsOf<M> = M extends MethodDef<string, infer P, z.ZodType> ? z.input<P> : never;
/** The params a handler of method M receives (after validation and defaults). */
export type ParsedParamsOf<M> = M extends MethodDef<string, infer P, z.ZodType> ? z.output<P> : never;
/** The result of method M. */
export type ResultOf<M> = M extends MethodDef<string, z.ZodType, infer R> ? z.output<R> : never;
