/** The package's public API for editor plugins and tools (S3.5): the typed client and the contract. */
export { ShadowClient } from './shadowClient.js';
export type { ConnectOptions } from './shadowClient.js';
export { startDaemon } from './autoStart.js';
export type { StartDaemonOptions } from './autoStart.js';
export { ShadowError, ERROR_CODES, isShadowError } from '../shared/errors.js';
export type { ErrorCode, WireError } from '../shared/errors.js';
export * from '../shared/methods/index.js';
export type { MethodDef, ParamsOf, ParsedParamsOf, ResultOf } from '../shared/defineMethod.js';
export { EVENT_NAMES } from '../shared/events.js';
export type { EventName } from '../shared/events.js';
export { PROTOCOL_VERSION } from '../shared/wire.js';
export type { WireEvent, WireRequest, WireResponse, RequestId } from '../shared/wire.js';
