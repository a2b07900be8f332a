// Session options, their defaults (those of the Go engine, so both SDKs
// behave alike under the same scenario), and the mapping from the driver
// protocol's connect options (harness/driver/options.go: durations as *_ms).

import { Backoff, defaultStrategy } from './backoff.js';

export const DEFAULTS = Object.freeze({
  principal: 'faultline',
  credentials: 'faultline',
  reconnect: true,
  reconnectTimeoutMs: 60_000, // one overall timer from the first loss
  recoveryBuffer: 1024, // sends kept until acked
  connectTimeoutMs: 2_000, // bound on one attempt: dial + upgrade + hello + answer
});

// resolveOptions validates opts and fills in defaults:
//
//   servers            ws URLs, in order; servers[0] first, the others for cascading and failover
//   principal, credentials
//   reconnect          reconnect after an unexpected loss (default true)
//   reconnectTimeoutMs one overall timer from the first loss (default 60s)
//   retentionMs        asked of the server in hello.retention_ms (default reconnectTimeoutMs)
//   strategy           {performReconnection(attempt), reset?()} (default: 100ms ×2 up to 5s)
//   recoveryBuffer     how many unacknowledged sends are kept (default 1024)
//   livenessMs         idle bound; 0: 2 × the server's ping_ms (none if it announced none)
//   connectTimeoutMs   bound on one attempt (default 2s)
//   failover           autofailover: after losing an established session, a new one on the next server
//   loadBalancing      failover candidates are shuffled (uniformly) before the next is chosen
//   cascading          the first connection walks the servers in order until one answers
//   random             () => [0, 1): the shuffle's source (default Math.random)
//   onState(change), onMessage(topic, seq, data), onError(err): callbacks, in order, never re-entrant
//   WebSocket          a WHATWG-like WebSocket class instead of the engine's own (websocket.js)
export function resolveOptions(opts = {}) {
  const o = { ...DEFAULTS, ...stripUndefined(opts) };
  if (!Array.isArray(o.servers) || o.servers.length === 0) throw new TypeError('no servers');
  if (o.servers.some((s) => typeof s !== 'string' || s === '')) throw new TypeError('servers must be URLs');
  o.servers = [...o.servers];
  for (const k of ['reconnectTimeoutMs', 'retentionMs', 'livenessMs', 'connectTimeoutMs', 'recoveryBuffer']) {
    if (o[k] !== undefined && (typeof o[k] !== 'number' || !(o[k] >= 0))) throw new RangeError(`${k}: not a non-negative number`);
  }
  o.principal ||= DEFAULTS.principal;
  o.credentials ||= DEFAULTS.credentials;
  o.reconnect = Boolean(o.reconnect);
  o.reconnectTimeoutMs ||= DEFAULTS.reconnectTimeoutMs;
  o.retentionMs ||= o.reconnectTimeoutMs;
  o.recoveryBuffer ||= DEFAULTS.recoveryBuffer;
  o.connectTimeoutMs ||= DEFAULTS.connectTimeoutMs;
  o.livenessMs ||= 0;
  o.failover = Boolean(o.failover);
  o.loadBalancing = Boolean(o.loadBalancing);
  o.cascading = Boolean(o.cascading);
  o.random ||= Math.random;
  if (!o.strategy) o.strategy = defaultStrategy();
  else if (typeof o.strategy.performReconnection !== 'function') throw new TypeError('strategy: no performReconnection');
  // A strategy that keeps state must not be shared by sessions built from
  // the same options.
  if (o.strategy instanceof Backoff) o.strategy = o.strategy.clone();
  return o;
}

function stripUndefined(obj) {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

// fromDriverOptions maps the connect op's options (ConnectOptions in
// harness/driver/options.go) to session options, the way the Go driver
// (godriver) maps them to the Go engine's: a strategy only when the scenario
// gave an initial delay, else the default; "fixed" back-off or exponential.
export function fromDriverOptions(servers, co = {}, { random } = {}) {
  const r = co.reconnect ?? {};
  const st = r.strategy ?? {};
  const f = co.failover ?? {};
  const o = {
    servers,
    principal: co.principal || undefined,
    credentials: co.credentials || undefined,
    reconnect: Boolean(r.enabled),
    reconnectTimeoutMs: r.timeout_ms > 0 ? r.timeout_ms : undefined,
    retentionMs: r.retention_ms > 0 ? r.retention_ms : undefined,
    recoveryBuffer: r.buffer > 0 ? r.buffer : undefined,
    livenessMs: co.liveness_ms > 0 ? co.liveness_ms : undefined,
    connectTimeoutMs: co.connect_timeout_ms > 0 ? co.connect_timeout_ms : undefined,
    failover: Boolean(f.auto),
    loadBalancing: Boolean(f.load_balancing),
    cascading: Boolean(f.cascading),
    random,
  };
  if (st.initial_ms > 0) {
    o.strategy = new Backoff({
      initialMs: st.initial_ms,
      multiplier: st.multiplier || 0,
      maxMs: st.max_ms || 0,
      maxAttempts: st.attempts || 0,
      jitter: st.jitter || 0,
      fixed: st.backoff === 'fixed',
      random,
    });
  }
  return o;
}
