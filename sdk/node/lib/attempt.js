// Attempt is one reconnection attempt offered to a strategy (Diffusion's
// start/abort pair). Only the first call of start() or abort() counts; calls
// after the session left RECOVERING_RECONNECT are ignored by the session.
//
// start() and abort() never act synchronously: they post to the session on
// a microtask, the way the Go engine posts to its loop's mailbox, so a
// strategy may call them from inside performReconnection without re-entering
// the state machine half-way through a transition.
export class Attempt {
  #post;
  #decided = false;
  #void = false;
  #hooks = [];

  // post(kind, attempt) delivers 'start' or 'abort' to the session.
  constructor(post) {
    this.#post = post;
    this.cancel = null; // set by the session once the attempt's dial runs
  }

  start() {
    if (this.#decided) return;
    this.#decided = true;
    queueMicrotask(() => this.#post('start', this));
  }

  abort() {
    if (this.#decided) return;
    this.#decided = true;
    queueMicrotask(() => this.#post('abort', this));
  }

  // onVoid registers f to run once the attempt can no longer start (the
  // session closed, recovered, or timed out), so a strategy's timer is
  // cleared instead of firing into a dead session and holding the process.
  onVoid(f) {
    if (this.#void) {
      f();
      return;
    }
    this.#hooks.push(f);
  }

  get isVoid() {
    return this.#void;
  }

  // kill voids the attempt and cancels its dial if one is running.
  kill() {
    if (this.#void) return;
    this.#void = true;
    const hooks = this.#hooks;
    this.#hooks = [];
    for (const f of hooks) {
      try {
        f();
      } catch {
        // a strategy's clean-up failing must not stop the session's
      }
    }
    if (this.cancel) this.cancel();
  }
}
