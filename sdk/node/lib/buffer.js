// SendBuffer is the client's recovery buffer: sends in n order, kept until
// the server acknowledges them, resent after a resume from received + 1
// (R3, the client → server direction).
export class SendBuffer {
  #items = []; // {n, payload}, n ascending

  add(n, payload) {
    this.#items.push({ n, payload });
  }

  // ackThrough drops every send with n ≤ upto. Acks are cumulative: frames
  // travel in order on one connection.
  ackThrough(upto) {
    let i = 0;
    while (i < this.#items.length && this.#items[i].n <= upto) i++;
    if (i > 0) this.#items = this.#items.slice(i);
  }

  // first is the oldest n held, or undefined.
  first() {
    return this.#items.length > 0 ? this.#items[0].n : undefined;
  }

  get length() {
    return this.#items.length;
  }

  all() {
    return this.#items;
  }
}
