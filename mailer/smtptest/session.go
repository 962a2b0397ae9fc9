package smtptest

import (
	"crypto/subtle"
	"io"
	"slices"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// session is one SMTP session; go-smtp starts a new one after STARTTLS.
type session struct {
	s    *Server
	c    *smtp.Conn
	user string // logged-in user, or ""
	from string
	to   []string
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	if err := s.interrupt(c.Conn(), "ehlo"); err != nil {
		return nil, err
	}
	return &session{s: s, c: c}, nil
}

func (ss *session) isTLS() bool {
	_, ok := ss.c.TLSConnectionState()
	return ok
}

func (ss *session) AuthMechanisms() []string {
	if len(ss.s.cfg.Users) == 0 {
		return nil
	}
	if len(ss.s.cfg.Mechanisms) > 0 {
		return slices.Clone(ss.s.cfg.Mechanisms)
	}
	return []string{sasl.Plain, sasl.Login}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if err := ss.s.interrupt(ss.c.Conn(), "auth"); err != nil {
		return nil, err
	}
	switch {
	case len(ss.s.cfg.Users) == 0:
		return nil, smtp.ErrAuthUnsupported
	case len(ss.s.cfg.Mechanisms) > 0 && !slices.Contains(ss.s.cfg.Mechanisms, mech):
		return nil, smtp.ErrAuthUnknownMechanism
	case mech == sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			if identity != "" && identity != user {
				ss.s.recordAuth(AuthAttempt{Mech: mech, User: user, TLS: ss.isTLS()})
				return smtp.ErrAuthFailed
			}
			return ss.login(mech, user, pass)
		}), nil
	case mech == sasl.Login:
		return &loginServer{login: func(user, pass string) error { return ss.login(mech, user, pass) }}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *session) login(mech, user, pass string) error {
	attempt := AuthAttempt{Mech: mech, User: user, TLS: ss.isTLS()}
	if hook := ss.s.cfg.OnAuth; hook != nil {
		if err := hook(user); err != nil {
			ss.s.recordAuth(attempt)
			return err
		}
	}
	want, known := ss.s.cfg.Users[user]
	attempt.OK = known && subtle.ConstantTimeCompare([]byte(want), []byte(pass)) == 1
	ss.s.recordAuth(attempt)
	if !attempt.OK {
		return smtp.ErrAuthFailed
	}
	ss.user = user
	return nil
}

var errAuthRequired = &smtp.SMTPError{
	Code:         530,
	EnhancedCode: smtp.EnhancedCode{5, 7, 0},
	Message:      "Authentication required",
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if err := ss.s.interrupt(ss.c.Conn(), "mail"); err != nil {
		return err
	}
	if len(ss.s.cfg.Users) > 0 && ss.user == "" {
		return errAuthRequired
	}
	if hook := ss.s.cfg.OnMail; hook != nil {
		if err := hook(from); err != nil {
			return err
		}
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.s.interrupt(ss.c.Conn(), "rcpt"); err != nil {
		return err
	}
	if hook := ss.s.cfg.OnRcpt; hook != nil {
		if err := hook(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if ss.s.cfg.Drop == "data" {
		r.Read(make([]byte, 1))
		return ss.s.interrupt(ss.c.Conn(), "data")
	}
	if ss.s.cfg.Stall == "data-body" {
		// Stop reading after the first byte: the client's writes fill the
		// socket buffers and block, as on a dead link mid-upload.
		r.Read(make([]byte, 1))
		return ss.s.interrupt(ss.c.Conn(), "data-body")
	}
	data, size, err := ss.read(r)
	if err != nil {
		return err // smtp.ErrDataTooLarge (552 5.3.4) for a too large message
	}
	if ss.s.cfg.Drop == "after-data" {
		return ss.s.interrupt(ss.c.Conn(), "after-data")
	}
	if ss.s.cfg.Stall == "data" {
		return ss.s.interrupt(ss.c.Conn(), "data")
	}
	if hook := ss.s.cfg.OnData; hook != nil {
		if err := hook(slices.Clone(data)); err != nil {
			return err
		}
	}
	ss.s.deliver(Message{
		From:     ss.from,
		To:       slices.Clone(ss.to),
		Data:     data,
		Size:     size,
		TLS:      ss.isTLS(),
		AuthUser: ss.user,
	})
	if ss.s.cfg.Drop == "after-accept" {
		// Delivered, and the client never hears of it.
		return ss.s.interrupt(ss.c.Conn(), "after-accept")
	}
	return nil
}

func (ss *session) read(r io.Reader) ([]byte, int64, error) {
	if ss.s.cfg.DiscardData {
		n, err := io.Copy(io.Discard, r)
		return nil, n, err
	}
	data, err := io.ReadAll(r)
	return data, int64(len(data)), err
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, with or without the user
// name as initial response.
type loginServer struct {
	user    string
	gotUser bool
	login   func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) (challenge []byte, done bool, err error) {
	switch {
	case !l.gotUser && resp == nil:
		return []byte("Username:"), false, nil
	case !l.gotUser:
		l.user, l.gotUser = string(resp), true
		return []byte("Password:"), false, nil
	}
	return nil, true, l.login(l.user, string(resp))
}
