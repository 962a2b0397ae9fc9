package smtptest

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// maxFillers bounds the connections StartFullQueue makes; Linux needs
// backlog+1 of them.
const maxFillers = 8

func startFullQueue() (*FullQueue, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("smtptest: socket: %w", err)
	}
	q := &FullQueue{closeLn: func() error { return unix.Close(fd) }}
	fail := func(what string, err error) (*FullQueue, error) {
		q.Close()
		return nil, fmt.Errorf("smtptest: full queue: %s: %w", what, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return fail("bind", err)
	}
	// Linux queues backlog+1 connections, then drops SYNs. A backlog of 0
	// would work too, but only through SYN cookies.
	if err := unix.Listen(fd, 1); err != nil {
		return fail("listen", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	q.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*unix.SockaddrInet4).Port))

	for {
		full, err := queueFull(fd)
		switch {
		case err != nil:
			return fail("TCP_INFO", err)
		case full:
			return q, nil
		case len(q.fillers) == maxFillers:
			return fail("connect", errors.New("accept queue still not full"))
		}
		c, err := net.DialTimeout("tcp", q.addr, time.Second)
		if err != nil {
			// The kernel may count the previous connection only after our
			// connect returned, and then drop this one's SYN.
			if full, _ := queueFull(fd); full {
				return q, nil
			}
			return fail("connect", err)
		}
		q.fillers = append(q.fillers, c)
	}
}

// queueFull reports whether the accept queue of the listening socket fd is
// full. For a listening socket Linux reports the queue's length in
// tcpi_unacked and its limit in tcpi_sacked, and drops SYNs once
// length > limit.
func queueFull(fd int) (bool, error) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return false, err
	}
	return info.Unacked > info.Sacked, nil
}
