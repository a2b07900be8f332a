// Package reports turns run results into the files people and CI read, all
// written into one folder by (*Report).WriteAll:
//
//   - report.json: the fixed minimum (docs/report-format.md): sdk (the driver's hello)
//     and results, each {scenario, requirement, verdict, measurements,
//     detail}; plus everything measured and each scenario's history. More
//     fields are added, none removed.
//   - junit.xml: a testsuite per scenario, a testcase per expect entry named
//     "<requirement> <check>"; FAILED and UNKNOWN are a <failure>, UNIMPLEMENTED a
//     <skipped>, NON-STRICT and INFORMATIONAL pass with their verdict in
//     <system-out>.
//   - summary.md: Markdown fit for $GITHUB_STEP_SUMMARY: totals, a
//     requirement × verdict table, one row per scenario, the failures.
//   - index.html and pages/<scenario>.html (inline CSS and SVG, no script,
//     no network; html.go, scenario_page.go): the index opens with what
//     FAILED (one line each, linking to the result), then a row per
//     requirement and the scenario × requirement matrix, anchored by
//     scenario name (slug.go); each scenario's page holds its results, a
//     timeline and the charts below, and its history. Pages stay small at a
//     whole suite's scale: long lists are cut with a count of the rest
//     (measurements, history), and past a budget a timeline's spans and
//     ticks are drawn as one path per class (timeline_budget.go).
//
// Merge renders several reports as one SDK × requirement matrix:
// index.html, summary.md and merged.json. Reports of one SDK, version and
// driver are one column: Union joins them (the shards of one run give the
// whole run's results), refusing a scenario two of them judged differently.
//
// Everything an SDK supplied (its name, error texts, state names) is data:
// html/template and encoding/xml escape it, and Markdown cells are escaped.
//
// # What index.html draws, and the conventions checkers follow for it
//
// The timeline of a scenario has a lane per client (its reported states as
// coloured spans, ops as ticks; at most maxClientLanes clients), a lane per
// server (each session's spans: live from session.create or .resume, retained
// from .disconnect until .resume, .expire, .close or .lost; accepts as ticks;
// a process kill as a dark span), a lane per link (its faults, fault.on to
// fault.off, by verb, hatched) and a lane of the timeline's steps. Every
// result is marked at its At, in its verdict's colour. Spans carry a word or
// a code besides their colour, and the legend (legend.go) explains every
// class a timeline draws.
//
// Charts are drawn from measurements alone, so any checker can have them:
//
//   - Window: a measurement with unit "ms" whose name ends in "window" is
//     drawn on the timeline as a band ending at its result's At.
//   - Back-off: the measurements of a result that carry Bounds (expected,
//     lo, hi) are drawn in order, each measured value against its expected
//     value and band (backoff_schedule's per-attempt delays do).
//   - Histogram: measurements are grouped by prefix (the name up to its last
//     ": ", or none). A group with a measurement named "p-value" is drawn as
//     a histogram of its measurements with unit "count" named "count <label>"
//     or "landed on <label>", one bar each; the leading number of their
//     Expected text, when there is one, is drawn as the expected count; the
//     p-value, and the group's "alpha" and "chi-square" when present, are
//     printed with it (shuffle_uniform's per-server landings do).
package reports
