package kit

import (
	"strconv"
	"strings"
)

// CloseOnce closes c unless it is closed already (a session's connected
// and closed channels; the caller serializes the calls).
func CloseOnce(c chan struct{}) {
	select {
	case <-c:
	default:
		close(c)
	}
}

// Label names a client in the driver's stderr lines: its index, or
// "default" for the default session.
func Label(client *int) string {
	if client == nil {
		return "default"
	}
	return strconv.Itoa(*client)
}

// URLMap maps the address the library dials for each server URL
// (hostPort: the library's own reading of a URL, "" if unparsable) back to
// the URL string the harness gave; the first URL of an address wins.
func URLMap(servers []string, hostPort func(string) string) map[string]string {
	m := make(map[string]string, len(servers))
	for _, s := range servers {
		if k := hostPort(s); k != "" {
			if _, dup := m[k]; !dup {
				m[k] = s
			}
		}
	}
	return m
}

// Settings lists the comma-separated settings of s (a driver's
// FAULTLINE_<PROTOCOL>_AGAINST), blanks trimmed, empty ones left out.
func Settings(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
