package contacts

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/postcard-mail/postcard/mailer"
)

// fail turns err, which happened at the current stage, into the
// *mailer.Error Sync returns, reports the stage as failed, and returns it.
func (s *session) fail(err error) error {
	e := s.diagnose(err)
	e.Protocol = mailer.ProtocolCardDAV
	e.Detail = s.scrub(e.Detail)
	if s.c.OnStage != nil {
		s.c.OnStage(mailer.StageResult{Stage: e.Stage, OK: false, Detail: e.Detail})
	}
	return e
}

// diagnose says what kind of failure err is, and where it happened. It
// hands network and TLS failures to mailer.ClassifyNet, as SMTP and IMAP do,
// after what only HTTP has (status codes, plain http on an https URL).
func (s *session) diagnose(err error) *mailer.Error {
	var (
		me  *mailer.Error
		se  *statusError
		ie  *insecureError
		tle *tooLargeError
		te  *transportError
		re  *readError
		xe  *xml.SyntaxError
	)
	if errors.As(err, &me) {
		c := *me
		if c.Stage == "" {
			c.Stage = s.stage
		}
		return &c
	}
	e := &mailer.Error{Stage: s.stage, Err: err}
	switch {
	case errors.Is(s.parent.Err(), context.Canceled):
		e.Kind, e.Detail = mailer.KindCancelled, "cancelled"
		return e
	case s.parent.Err() != nil:
		e.Kind, e.Detail = mailer.KindTimeout, "the time allowed ran out"
		return e
	case errors.Is(s.ctx.Err(), context.DeadlineExceeded):
		e.Kind, e.Detail = mailer.KindTimeout, fmt.Sprintf("the sync did not finish within %s", s.c.timeout())
		return e
	case errors.As(err, &se):
		return s.statusKind(e, se)
	case errors.As(err, &ie):
		e.Kind, e.Stage, e.Detail = mailer.KindTLSUnavailable, mailer.StageTLS, ie.Error()
		return e
	case errors.As(err, &tle):
		e.Kind = mailer.KindTooLarge
		e.Detail = fmt.Sprintf("the server sent more than %d MB in one answer (or for one card); reading stopped there", tle.limit>>20)
		return e
	case errors.As(err, &re) && re.idled:
		e.Kind, e.Detail = mailer.KindTimeout, fmt.Sprintf("the server sent nothing for %s in the middle of an answer", re.idle)
		return e
	case errors.As(err, &xe), errors.Is(err, errNotMultistatus):
		e.Kind, e.Detail = mailer.KindUnknown, "the server's answer is not CardDAV: "+err.Error()
		return e
	}

	// A failure of the network or of TLS: where it happened says much.
	var t traceState
	inBody := errors.As(err, &re)
	if errors.As(err, &te) {
		t = te.trace
	} else {
		t.gotConn = true
	}
	stage := s.stage
	switch {
	case inBody || t.gotConn:
	case t.tlsStarted && !t.tlsDone:
		stage = mailer.StageTLS
	case t.connectStarted:
		stage = mailer.StageConnect
	case t.dnsStarted:
		stage = mailer.StageResolve
	default:
		stage = mailer.StageConnect
	}
	e.Stage = stage
	var rhe tls.RecordHeaderError
	if errors.Is(err, http.ErrSchemeMismatch) || errors.As(err, &rhe) {
		// Plain http where https was expected.
		e.Kind, e.Stage = mailer.KindTLSUnavailable, mailer.StageTLS
		e.Detail = "the server answered without encryption (plain http), so the password was not sent"
		return e
	}
	port, _ := strconv.Atoi(s.base.Port())
	if port == 0 {
		port = 443
	}
	kind, detail, ok := mailer.ClassifyNet(err, mailer.NetFailure{
		Stage: stage, Host: s.base.Hostname(), Port: port,
		ConnectTimeout: s.c.connectTimeout(), ReplyTimeout: s.c.replyTimeout(),
	})
	if !ok {
		kind, detail = mailer.KindUnknown, err.Error()
	}
	e.Kind, e.Detail = kind, detail
	switch kind {
	case mailer.KindDNS:
		e.Stage = mailer.StageResolve
	case mailer.KindTLSCertificate, mailer.KindTLSVersion:
		e.Stage = mailer.StageTLS
	}
	return e
}

// statusKind classifies an HTTP status: 401 is the login, 5xx and 429 may
// pass, anything else says the URL is not what was expected.
func (s *session) statusKind(e *mailer.Error, se *statusError) *mailer.Error {
	e.Detail = se.Error()
	switch {
	case se.code == http.StatusUnauthorized:
		e.Kind, e.Stage = mailer.KindAuth, mailer.StageLogin
		e.Detail = fmt.Sprintf("the server refused the login of %s (%s)", s.user, se.status)
	case se.code >= 500 || se.code == http.StatusTooManyRequests:
		e.Kind = mailer.KindTemporary
		if se.retryAfter != "" {
			e.Detail += "; it asks to try again after " + se.retryAfter + " s"
		}
	default:
		e.Kind = mailer.KindUnknown
	}
	return e
}

// scrub removes the password from text that came from the server.
func (s *session) scrub(text string) string {
	if s.pw != "" {
		text = strings.ReplaceAll(text, s.pw, "********")
	}
	return text
}
