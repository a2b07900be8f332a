package regdoc

// What the Go declarations cannot say, by hand, in one small table each.
// The generator fails on an entry that names no registered parameter, verb
// or kind, so the tables cannot go stale silently.

// extra holds a parameter's JSON Schema keywords beyond its type, keyed
// "check_<name>.<key>" or "fault_<verb>.<key>": the bounds its Validate
// enforces, the values of an enumerated string, the items of a list.
// "required": true makes the key required (it is not emitted as a keyword);
// "description" replaces the Go comment (the fault verbs' attribute comments
// are terse line comments).
var extra = map[string]Obj{
	"fault_limit.bytes":          {{"description", "Bytes allowed through before the connection closes (required, > 0)."}, {"exclusiveMinimum", 0}, {"required", true}},
	"fault_reset.timeout":        {{"description", "Delay of the reset after the first bytes flow (default 0: at once)."}},
	"fault_slice.average_size":   {{"description", "Bytes per chunk (required, > 0)."}, {"exclusiveMinimum", 0}, {"required", true}},
	"fault_slice.size_variation": {{"description", "± bytes around average_size (0 <= it < average_size)."}, {"minimum", 0}},
	"fault_slice.delay":          {{"description", "Pause between chunks (microsecond resolution)."}},
	"fault_slow.latency":         {{"description", "Added delay (required, >= 1ms)."}, {"required", true}},
	"fault_slow.jitter":          {{"description", "Delay is latency ± jitter (default 0)."}},
	"fault_throttle.rate":        {{"description", "Rate in KB/s, 1 KB = 1000 bytes (required, > 0)."}, {"exclusiveMinimum", 0}, {"required", true}},

	"check_backoff_schedule.tolerance_pct":          {{"minimum", 0}},
	"check_backoff_schedule.min_attempts":           {{"minimum", 1}},
	"check_backoff_interop_band.low_factor":         {{"minimum", 0}},
	"check_backoff_interop_band.high_factor":        {{"minimum", 0}},
	"check_backoff_interop_band.min_gaps":           {{"minimum", 1}},
	"check_connect_timeout.tolerance_pct":           {{"minimum", 0}},
	"check_connect_timeout.min_attempts":            {{"minimum", 1}},
	"check_cascade_order.tolerance_pct":             {{"minimum", 0}},
	"check_chunk_affinity.expect_failed":            {{"minimum", 0}},
	"check_deliberate_close.by":                     {{"enum", []any{"client", "server"}}, {"enumDescriptions", []any{"The client closes (CLOSED_BY_CLIENT).", "The server closes, a server close step (CLOSED_BY_SERVER)."}}, {"required", true}},
	"check_exactly_once_in_order.topic":             {{"minLength", 1}, {"required", true}},
	"check_failover_sequence.order":                 {{"enum", []any{"list", "any"}}, {"enumDescriptions", []any{"Each next server is the next in the list after the lost one.", "Any order (load balancing; judged by shuffle_uniform, no_repeat)."}}},
	"check_failover_sequence.min_failovers":         {{"minimum", 1}},
	"check_handoff_window.min_migrations":           {{"minimum", 1}},
	"check_hot_spot.margin":                         {{"minimum", 0}},
	"check_hot_spot.max_false_fail":                 {{"minimum", 0}, {"exclusiveMaximum", 1}},
	"check_jitter_distribution.tolerance_pct":       {{"minimum", 0}},
	"check_jitter_distribution.max_false_fail":      {{"exclusiveMinimum", 0}, {"maximum", 0.5}},
	"check_jitter_distribution.min_samples":         {{"minimum", 2}},
	"check_migration_failed_intact.outcome":         {{"enum", []any{"any", "failed", "cancelled", "refused"}}, {"enumDescriptions", []any{"Any of the three (default).", "The target was unreachable; the client reported FAILED.", "Cancelled by the server before it started.", "The client cannot migrate (connection cannot migrate)."}}},
	"check_no_command_lost.held":                    {{"description", "Commands issued during a migration must be held and delivered after it."}}, // NoCommandLost.Held has no field comment yet
	"check_no_command_lost.min_held":                {{"minimum", 0}},
	"check_no_command_lost.min_forwarded":           {{"minimum", 0}},
	"check_no_repeat.min_attempts":                  {{"minimum", 1}},
	"check_reconnect_before_failover.tolerance_pct": {{"minimum", 0}},
	"check_round_robin.min_messages":                {{"minimum", 0}},
	"check_rows_exactly_once.min_interrupted":       {{"minimum", 0}},
	"check_shuffle_uniform.alpha":                   {{"exclusiveMinimum", 0}, {"maximum", 0.5}, {"required", true}},
	"check_shuffle_uniform.min_samples":             {{"minimum", 0}},
	"check_skip_ineligible.expect_skips":            {{"items", Obj{{"$ref", "#/$defs/name"}}}},
	"check_strategy_reset.tolerance_pct":            {{"minimum", 0}},
	"check_unavailable_500.expect_500":              {{"minimum", 0}},
}

// verbDocs describes each fault verb (and heal) for the verb enum and its
// fault_<verb> definition.
var verbDocs = map[string]string{
	"blackhole": "Connections held open, bytes dropped (Toxiproxy timeout 0); healing closes the held connections.",
	"cut":       "Live connections dropped; new ones accepted, then reset once bytes flow (the server still sees each attempt). Ignores direction.",
	"down":      "Link disabled: listener closed, dials refused (attempts are client-reported only), live connections dropped. Ignores direction.",
	"limit":     "Close a connection once `bytes` have passed on the stream since the fault began (Toxiproxy limit_data).",
	"reset":     "Reset connections once bytes flow (Toxiproxy reset_peer); idle connections are untouched.",
	"slice":     "Cut data into small chunks with a delay between them (Toxiproxy slicer).",
	"slow":      "Add latency (Toxiproxy latency).",
	"throttle":  "Limit bandwidth (Toxiproxy bandwidth).",
	"heal":      "End every fault on the link at once; takes no other key.",
}

// healDoc describes heal's definition, which takes only the link keys.
const healDoc = "heal: end every fault on the link; takes no for, direction or attributes."
