package testenv

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// loopback is the only address anything in this package binds or listens on:
// test servers must never be reachable from outside the machine.
const loopback = "127.0.0.1"

// startAttempts bounds how often a server start is retried on fresh ports.
// Picking a port and handing it to a server is inherently racy (another
// process may grab it in between), so a failed start is retried rather than
// treated as fatal.
const startAttempts = 4

var (
	portsMu sync.Mutex
	// handedOut remembers every port this process has already given to a
	// server. The kernel happily returns a just-closed port again from
	// 127.0.0.1:0, which would make two servers started back to back in one
	// test binary fight over the same port.
	handedOut = map[int]bool{}
)

// freePort returns a loopback TCP port that was free a moment ago, found by
// listening on 127.0.0.1:0 and closing the listener.
func freePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 50 {
		l, err := net.Listen("tcp", net.JoinHostPort(loopback, "0"))
		if err != nil {
			return 0, fmt.Errorf("testenv: find free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if err := l.Close(); err != nil {
			return 0, fmt.Errorf("testenv: close probe listener: %w", err)
		}
		if !handedOut[port] {
			handedOut[port] = true
			return port, nil
		}
	}
	return 0, errors.New("testenv: no unused loopback port found after 50 tries")
}

// addr formats a loopback host:port.
func addr(port int) string {
	return net.JoinHostPort(loopback, strconv.Itoa(port))
}

// dialable reports whether something accepts TCP connections on port.
func dialable(port int) bool {
	c, err := net.DialTimeout("tcp", addr(port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}
