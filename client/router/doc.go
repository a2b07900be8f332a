// Package router is the reference router of faultline's Go engine: a
// Connection Server in a ThingWorx HA cluster (PTC's documentation). It holds
// a connection to every platform instance that discovery names and routes
// each ingress message that edge connections bring in.
//
// Semantics (requirements T1–T6, docs/requirements.md):
//
//   - The circular list is the instances in join order: the discovery's
//     initial members in its order, then each added instance at the tail. The
//     round-robin pointer is the instance chosen last; a message (or the first
//     part of a multi-part message) goes to the first instance after it, in
//     list order and wrapping, that is connected and writable (T1, T2). An
//     instance removed from the list keeps nothing: the next one after its
//     place is found by join order.
//   - Connected means welcomed on a live connection. Writable is real
//     back-pressure: each connection has a write buffer, the bytes of frames
//     queued for it and not yet taken by its socket (the frame being written
//     counts until the write returns). One writer goroutine drains it into
//     the socket, so a slow or throttled link keeps it full. Above the high
//     watermark (default 64 KiB) the instance is not writable until the
//     buffer is below the low watermark (default 32 KiB).
//   - When no instance is eligible the request is answered 500 at once;
//     nothing is queued for later (T3). A request routed to an instance is
//     answered 200 once the instance acknowledged every part, or 502 when that
//     instance is lost or removed first, or 504 after the request timeout.
//     Every accepted request gets exactly one answer.
//   - When the last connected instance is lost (or removed) every open edge
//     connection is closed; OpenEdge still accepts new ones at any time, and
//     their requests get 500 until an instance is back (T4).
//   - Parts after the first go to the connection that took the first; if it
//     is lost, removed, or not writable when a later part comes, the request
//     fails (502) and its later parts are dropped: never a partial delivery
//     elsewhere (T5).
//   - Discovery (the Discovery interface; Registry is the in-process one)
//     adds and removes instances at run time: an added instance is dialled
//     and joins the rotation once welcomed; a removed one leaves it at once,
//     its requests fail and its connection is closed deliberately (T6).
//   - A lost instance is redialled every Retry; silence beyond Liveness
//     (default 2 × the ping period the instance announces) loses it.
//
// Every decision is reported through Events, synchronously and under the
// router's lock, so the reports are in decision order: the harness records
// them as the router's own view and checks it against what the instances
// and the links saw. The protocol to the instances is wire/platform.
package router
