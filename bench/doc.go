// Package bench measures faultline itself: how fast a fault is observed by the
// engine, and how exactly the history measures what happened. Run with
// `make bench`; each benchmark reports its percentiles with b.ReportMetric.
package bench
