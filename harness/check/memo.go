package check

// Facts derived from a history (walks, migrations, a client's sessions, the
// ops' replies) are computed once per view, on first use, and shared by
// every later question, as Jepsen computes derived facts once per history.
// A view serves one Check on one goroutine, so the memo needs no lock.

// memo holds a view's derived facts by key; keys are small unexported
// struct types (one per fact, with the fact's arguments as fields).
type memo map[any]any

// derive returns the fact under key, computing it with f on first use.
// What it returns is shared: callers must not modify it.
func derive[T any](m memo, key any, f func() T) T {
	if x, ok := m[key]; ok {
		return x.(T)
	}
	x := f()
	m[key] = x
	return x
}
