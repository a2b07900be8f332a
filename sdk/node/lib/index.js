// faultline-node: a client engine for faultline's wire protocol.
export { Session, connect } from './session.js';
export { Backoff, defaultStrategy } from './backoff.js';
export { Attempt } from './attempt.js';
export { State, Reason, Code, CloseError, AttemptError, isClosed } from './states.js';
export { resolveOptions, fromDriverOptions, DEFAULTS } from './options.js';
export { cascadeOrder, failoverOrder, shuffle, seededRandom } from './walk.js';
export { decode, encode, T, WireReason, MAX_FRAME, FrameError } from './wire.js';
