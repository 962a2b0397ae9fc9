package smtptest

import (
	"fmt"
	"net"
	"sync"
)

// Silent is a listener on 127.0.0.1 that accepts connections and never
// writes a byte: a hung server, or an implicit-TLS port seen by a STARTTLS
// client waiting for the greeting.
type Silent struct {
	ln       net.Listener
	done     chan struct{} // closed when the accept loop has returned
	mu       sync.Mutex
	conns    []net.Conn
	closeErr error
	once     sync.Once
}

// StartSilent starts a Silent listener on a free port. Call Close when done.
func StartSilent() (*Silent, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtptest: %w", err)
	}
	s := &Silent{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
		}
	}()
	return s, nil
}

// Addr returns the listener's address, "127.0.0.1:PORT".
func (s *Silent) Addr() string { return s.ln.Addr().String() }

// Close closes the listener and every accepted connection.
func (s *Silent) Close() error {
	s.once.Do(func() {
		if err := s.ln.Close(); err != nil {
			s.closeErr = fmt.Errorf("smtptest: close: %w", err)
		}
		<-s.done
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			c.Close()
		}
	})
	return s.closeErr
}

// FullQueue is a listening socket on 127.0.0.1 that never accepts and whose
// accept queue is full, so that the kernel drops new connection attempts
// (SYNs) and a client's connect times out instead of failing fast.
//
// StartFullQueue listens with a backlog of 1 and connects until the
// kernel's own count (TCP_INFO on the listening socket) says the queue is
// full: on Linux two connections. The kernel keeps dropping the client's
// SYN retransmissions (after 1 s, 3 s, ...) while the queue stays full, so
// any connect timeout expires. It needs Linux; elsewhere it returns an
// error wrapping errors.ErrUnsupported.
type FullQueue struct {
	addr    string
	fillers []net.Conn
	closeLn func() error // closes the listening socket
	once    sync.Once
	err     error
}

// StartFullQueue starts a FullQueue on a free port. Call Close when done.
func StartFullQueue() (*FullQueue, error) {
	return startFullQueue()
}

// Addr returns the listener's address, "127.0.0.1:PORT".
func (q *FullQueue) Addr() string { return q.addr }

// Close closes the queued connections and the listening socket.
func (q *FullQueue) Close() error {
	q.once.Do(func() {
		for _, c := range q.fillers {
			c.Close()
		}
		if err := q.closeLn(); err != nil {
			q.err = fmt.Errorf("smtptest: close: %w", err)
		}
	})
	return q.err
}

// RefusedAddr returns an address on 127.0.0.1 where nothing listens, so
// connecting is refused at once. It binds a free port and closes it; in
// the rare case that another process takes the port meanwhile, a test
// using it may see a connection instead.
func RefusedAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("smtptest: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("smtptest: %w", err)
	}
	return addr, nil
}
