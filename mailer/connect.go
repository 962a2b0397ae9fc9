package mailer

import (
	"context"
	"errors"
	"sync"
)

// Connection is a session opened ahead of its message. Client.Connect
// connects, secures the connection and logs in, in the background, while
// the caller gets the message ready: the Outbox freezes it on disk, and a
// sync of the disk costs about what a TLS handshake does. Send then sends
// the message over that session, once. Nothing of a message goes on the
// wire before Send: until then the server has seen a login, as for Check.
//
// A Connection is for one message. Close it when done with it, sent or not.
type Connection struct {
	c    *Client
	a    Account
	pw   PasswordFunc
	size int64
	n    int

	cancel context.CancelCauseFunc
	done   chan struct{} // closed when opening ended
	s      *session      // the open session, once done, if it opened
	err    error         // why it did not open, once done

	mu   sync.Mutex
	used bool // Send or Close was called
}

// errConnectionClosed is the cause of a Connection closed before it opened.
var errConnectionClosed = errors.New("mailer: the connection was closed before it was used")

// errConnectionUsed is a second Send on a Connection.
var errConnectionUsed = errors.New("mailer: a connection sends one message")

// Connect starts the session for a message of size bytes to recipients
// recipients, which Send will send: it resolves, connects, secures the
// connection and logs in with the password from pw, on a goroutine of its
// own, and returns at once. The session's deadline (see Client) runs from
// now; cancelling ctx ends the session at any stage.
func (c *Client) Connect(ctx context.Context, a Account, pw PasswordFunc, size int64, recipients int) *Connection {
	cn := &Connection{c: c, a: a, pw: pw, size: size, n: recipients, done: make(chan struct{})}
	if err := a.Validate(); err != nil {
		cn.err = err
		close(cn.done)
		return cn
	}
	octx, cancel := context.WithCancelCause(ctx)
	cn.cancel = cancel
	go func() {
		defer close(cn.done)
		cn.s, cn.err = c.open(octx, a, pw, c.sessionTimeout(size, recipients))
	}()
	return cn
}

// Send sends out over the session, once, as Client.Send does: it waits for
// the session to open (its error, if it did not, is returned as Client.Send
// would have returned it), then sends. Cancelling ctx stops it at any
// stage. A message larger, or to more recipients, than Connect was told
// gets a session of its own, so that its deadlines fit it.
func (cn *Connection) Send(ctx context.Context, out *Outgoing) (*Result, error) {
	if !cn.claim() {
		return nil, errConnectionUsed
	}
	if out.Size > cn.size || len(out.Recipients) > cn.n {
		cn.end()
		return cn.c.Send(ctx, cn.a, cn.pw, out)
	}
	if cn.cancel != nil {
		// The caller's cancel, and its cause, reach the session whatever
		// it is doing: opening, or sending. Once the send is over, the
		// session's context is let go of.
		defer cn.cancel(errConnectionClosed)
		stop := context.AfterFunc(ctx, func() { cn.cancel(context.Cause(ctx)) })
		defer stop()
	}
	<-cn.done
	if cn.err != nil {
		return nil, cn.err
	}
	if ctx.Err() != nil {
		// Ended while the session opened: cancelled now, not by the
		// AfterFunc's goroutine, so that no command goes out.
		cn.cancel(context.Cause(ctx))
	}
	res, err := cn.s.send(out)
	cn.s.close()
	if err != nil && lostBeforeSender(err) && ctx.Err() == nil {
		// The session opened ahead was gone before the server took the
		// sender (a server that drops idle sessions, a restart): nothing
		// of the message went out, so it goes over a session of its own,
		// once, as it would have without connecting ahead. Should that
		// one fail before the server takes the sender too, the first
		// failure is the one told: the second adds nothing to it.
		res, err2 := cn.c.Send(ctx, cn.a, cn.pw, out)
		if err2 == nil || pastSender(err2) {
			return res, err2
		}
	}
	return res, err
}

// lostBeforeSender reports whether err is the session lost at MAIL FROM,
// the first command of a send: the connection closed or reset, or the
// server's 421 closing it, unless that 421 says to slow down.
func lostBeforeSender(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Stage != StageSender {
		return false
	}
	return e.Kind == KindConnectionLost || (e.Reply != nil && e.Reply.Code == 421 && e.Kind != KindRateLimited)
}

// pastSender reports whether err happened after the server took the
// sender: recipients, upload or verdict.
func pastSender(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Stage == StageRcpt || e.Stage == StageData || e.Stage == StageAccepted
}

// Close ends the session if Send did not use it: an open one says goodbye
// (QUIT, bounded to two seconds), one still opening stops. It is safe to
// call at any time, more than once, and after Send.
func (cn *Connection) Close() {
	if cn.claim() {
		cn.end()
	}
}

// claim reports whether this is the first Send or Close, which has the
// session to itself.
func (cn *Connection) claim() bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	first := !cn.used
	cn.used = true
	return first
}

// end stops a session that was not used and waits for it to stop, which
// cancelling makes quick: the connection is closed under whatever waits.
func (cn *Connection) end() {
	if cn.cancel == nil {
		return // it never opened: the account was not valid
	}
	select {
	case <-cn.done:
	default:
		cn.cancel(errConnectionClosed)
		<-cn.done
	}
	if cn.s != nil {
		cn.s.quit()
		cn.s.close()
	}
	cn.cancel(errConnectionClosed)
}
