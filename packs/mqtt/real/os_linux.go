package real

import (
	"bufio"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procAttr: mosquitto leads its own process group (one signal ends it and
// anything it started), and the kernel kills it if the harness dies first
// (the signal is tied to the thread that started it, which the Go runtime
// keeps while the program runs).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// closedPeer tells which of cands (client host:port, oldest first) has no
// open socket on the listener's port any more: mosquitto names a client
// that sent no CONNECT "<unknown>" when it closes it, and the kernel's
// socket table is the only place left that tells them apart. It looks
// again for a few milliseconds (mosquitto logs the close just before it
// closes the socket), and gives "" if it cannot tell.
func closedPeer(listenPort int, cands []string) string {
	deadline := time.Now().Add(20 * time.Millisecond)
	for {
		open, ok := openPeers(listenPort)
		if !ok {
			return ""
		}
		for _, c := range cands {
			if i := strings.LastIndexByte(c, ':'); i >= 0 && !open[c[i+1:]] {
				return c
			}
		}
		if time.Now().After(deadline) {
			return ""
		}
		time.Sleep(time.Millisecond)
	}
}

// openPeers: the remote ports of the open sockets (not listening, still
// owned by a process) whose local port is listenPort, from /proc/net/tcp
// and tcp6. Ports alone: one listener's peers are told apart by port on
// loopback, and IPv4-mapped addresses print differently in each table.
func openPeers(listenPort int) (map[string]bool, bool) {
	out := map[string]bool{}
	found := false
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		found = true
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[9] == "0" || fs[3] == "0A" { // orphaned, or the listener
				continue
			}
			if hexPort(fs[1]) != listenPort {
				continue
			}
			if p := hexPort(fs[2]); p > 0 {
				out[strconv.Itoa(p)] = true
			}
		}
		_ = fh.Close()
	}
	return out, found
}

// hexPort reads the port of "ADDRHEX:PORTHEX".
func hexPort(a string) int {
	i := strings.LastIndexByte(a, ':')
	if i < 0 {
		return -1
	}
	b, err := hex.DecodeString(a[i+1:])
	if err != nil || len(b) != 2 {
		return -1
	}
	return int(b[0])<<8 | int(b[1])
}
