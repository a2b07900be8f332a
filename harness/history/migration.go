package history

// Event kinds of streaming requests and migration (Open Server's, M1–M6). The
// session pack's server records them with Source server; the driver reports
// row, done and migration with Source client (same names, the driver
// protocol's). packs/session/EVENTS.md describes them.
const (
	KindRequest          = "request"           // server: Session, Conn, Attrs{req, rows, every_ms, dup, forwarded}: a req arrived (or was run from forwarded late commands)
	KindRow              = "row"               // server: Session, Conn, Seq=n, Attrs{req}: row n written; client: Seq=n, Attrs{request}
	KindDone             = "done"              // server: Session, Conn, Attrs{req, cancelled, rows}: the final done written; client: Attrs{request, cancelled}
	KindAttention        = "attention"         // server: Session, Conn, Attrs{req, outcome: cancelled|ended|unknown, forwarded}
	KindMigration        = "migration"         // server: Session, Conn, Reason, Attrs{state, mig, target, retarget}; client: Reason, Attrs{state, target}
	KindMigrationForward = "migration.forward" // server (source): Session, Conn, Seq (send n), Attrs{mig, what, req, dropped}: a late command put into the shared context
	KindMigrationSeal    = "migration.seal"    // server (source): Session, Conn, Attrs{mig, how: leaving|grace|lost, forwarded}: the shared context is complete
	KindMigrationResume  = "migration.resume"  // server (target): Session, Conn, Attrs{mig, from, sealed, forwarded, received, requests}
	KindMigrationHandoff = "migration.handoff" // server (source): Session, Conn, Attrs{mig, target}: the target took the session; the source drops it
)
