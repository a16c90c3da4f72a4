/** The contract between daemon and clients: methods, wire format, errors, paths. */
export * from './errors.js';
export * from './defineMethod.js';
export * from './methods/index.js';
export * from './wire.js';
export * from './events.js';
export * from './paths.js';
export * from './version.js';
