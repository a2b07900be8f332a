// The built-in reconnection strategy, the same schedule as the Go engine's
// client.Backoff: delay n (0-based, counted since the last reset) is
// min(initial · multiplier^n, max), or initial when fixed. The first attempt
// after a loss waits delay 0 (= initial), as in Diffusion's JavaScript
// example `min(2^attempts++ · 100, max)`. Jitter J scales each delay by a
// uniform factor in [1 − J, 1]. After maxAttempts attempts (0: unlimited)
// the next offer aborts, which closes the session (or fails over).

// setTimeout fires at once (with a warning) for delays above 2^31 − 1 ms;
// a longer delay is clamped there, which is "never" for any session.
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class Backoff {
  constructor({ initialMs = 100, multiplier = 2, maxMs = 0, maxAttempts = 0, jitter = 0, fixed = false, random = Math.random } = {}) {
    this.initialMs = initialMs;
    this.multiplier = multiplier || 2; // 0 means 2, as in the Go engine and the options JSON (omitempty)
    this.maxMs = maxMs;
    this.maxAttempts = maxAttempts;
    this.jitter = jitter;
    this.fixed = fixed;
    this.random = random;
    this.n = 0; // attempts since the last reset
    this.validate();
  }

  validate() {
    const nums = [this.initialMs, this.multiplier, this.maxMs, this.maxAttempts, this.jitter];
    if (nums.some((v) => typeof v !== 'number' || Number.isNaN(v))) throw new RangeError('backoff: not a number');
    if (this.initialMs < 0 || this.maxMs < 0 || this.maxAttempts < 0) throw new RangeError('backoff: negative value');
    if (this.multiplier < 1) throw new RangeError('backoff: multiplier below 1');
    if (this.jitter < 0 || this.jitter > 1) throw new RangeError('backoff: jitter outside [0, 1]');
  }

  // delay is the n-th delay (0-based) in ms, without jitter.
  delay(n) {
    let d = this.initialMs;
    if (!this.fixed && n > 0) d *= this.multiplier ** n;
    if (this.maxMs > 0 && d > this.maxMs) d = this.maxMs;
    return Math.min(d, MAX_TIMER_MS); // Infinity too, when there is no max
  }

  jittered(d) {
    if (this.jitter <= 0) return d;
    return d * (1 - this.jitter * this.random());
  }

  // performReconnection schedules attempt.start() after the next delay, or
  // aborts once maxAttempts attempts have been made. It never blocks.
  performReconnection(attempt) {
    if (this.maxAttempts > 0 && this.n >= this.maxAttempts) {
      attempt.abort();
      return;
    }
    const d = this.jittered(this.delay(this.n));
    this.n++;
    const t = setTimeout(() => attempt.start(), d);
    // Our own attempts say when they are void, so a pending timer neither
    // outlives the session nor keeps the process alive.
    if (typeof attempt.onVoid === 'function') attempt.onVoid(() => clearTimeout(t));
  }

  // reset starts the schedule again from delay 0 (R9): the session calls it
  // after every successful reconnection and every new session.
  reset() {
    this.n = 0;
  }

  // clone gives each session its own schedule from shared options.
  clone() {
    return new Backoff({
      initialMs: this.initialMs, multiplier: this.multiplier, maxMs: this.maxMs,
      maxAttempts: this.maxAttempts, jitter: this.jitter, fixed: this.fixed, random: this.random,
    });
  }
}

// defaultStrategy is exponential back-off 100ms, 200ms, … capped at 5s,
// the Go engine's default.
export function defaultStrategy() {
  return new Backoff({ initialMs: 100, multiplier: 2, maxMs: 5000 });
}
