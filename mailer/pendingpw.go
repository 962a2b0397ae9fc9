package mailer

import "context"

// pendingPassword is the password a session reads while it connects (from
// the keychain, a few D-Bus round trips that need not wait for the network,
// nor the network for them): pw runs on a goroutine of its own as soon as
// the session starts, and the session waits for it only when it logs in.
// SMTP's and IMAP's sessions share it.
type pendingPassword struct {
	c    chan passwordResult
	done bool // res holds pw's answer
	res  passwordResult
}

type passwordResult struct {
	password string
	err      error
}

// startPassword runs pw; when it fails, stop ends the session's connecting
// (after the answer is in, so that the failure it causes finds the reason).
func startPassword(ctx context.Context, pw PasswordFunc, stop func()) *pendingPassword {
	p := &pendingPassword{c: make(chan passwordResult, 1)}
	go func() {
		password, err := pw(ctx)
		p.c <- passwordResult{password, err} // buffered: never blocks
		if err != nil {
			stop()
		}
	}()
	return p
}

// wait waits for the password, or for ctx's end (then known is false: the
// session ended while it waited).
func (p *pendingPassword) wait(ctx context.Context) (password string, known bool, err error) {
	if !p.done {
		select {
		case p.res = <-p.c:
		case <-ctx.Done():
			select {
			case p.res = <-p.c:
			default:
				return "", false, ctx.Err()
			}
		}
		p.done = true
	}
	return p.res.password, true, p.res.err
}

// failed is the password's error if it has already failed, without
// waiting.
func (p *pendingPassword) failed() error {
	if !p.done {
		select {
		case p.res = <-p.c:
			p.done = true
		default:
			return nil
		}
	}
	return p.res.err
}

// known returns the password once it has come, or "".
func (p *pendingPassword) known() string {
	if p.done && p.res.err == nil {
		return p.res.password
	}
	return ""
}
