package contacts

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

// The requests, as RFC 4918 and 6352 spell them.
const (
	propfindDiscover = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:current-user-principal/><C:addressbook-home-set/><D:resourcetype/><D:displayname/></D:prop></D:propfind>`
	propfindHome = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:addressbook-home-set/></D:prop></D:propfind>`
	propfindBooks = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:displayname/></D:prop></D:propfind>`
	// The whole card is asked for: a server may drop grouped properties
	// (item1.EMAIL) from a card cut down to some properties.
	reportCards = `<?xml version="1.0" encoding="utf-8"?>
<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop><C:filter/></C:addressbook-query>`
)

const nsDAV = "DAV:"

// response is one DAV:response of a multistatus.
type response struct {
	Hrefs     []string   `xml:"DAV: href"`
	Status    string     `xml:"DAV: status"`
	Propstats []propstat `xml:"DAV: propstat"`
}

type propstat struct {
	Status string `xml:"DAV: status"`
	Prop   prop   `xml:"DAV: prop"`
}

type prop struct {
	CurrentUserPrincipal *hrefs        `xml:"DAV: current-user-principal"`
	HomeSet              *hrefs        `xml:"urn:ietf:params:xml:ns:carddav addressbook-home-set"`
	ResourceType         *resourceType `xml:"DAV: resourcetype"`
	DisplayName          string        `xml:"DAV: displayname"`
	AddressData          *string       `xml:"urn:ietf:params:xml:ns:carddav address-data"`
}

type hrefs struct {
	Hrefs []string `xml:"DAV: href"`
}

type resourceType struct {
	AddressBook *struct{} `xml:"urn:ietf:params:xml:ns:carddav addressbook"`
}

// okProps are the properties the server found (a propstat of 2xx, or one
// without status).
func (r *response) okProps() []prop {
	var out []prop
	for _, ps := range r.Propstats {
		if code := statusCode(ps.Status); code == 0 || code/100 == 2 {
			out = append(out, ps.Prop)
		}
	}
	return out
}

// is reports whether the response is about u (or names no resource).
func (r *response) is(u *url.URL) bool {
	if len(r.Hrefs) == 0 {
		return true
	}
	h := resolveFirst(u, r.Hrefs)
	return h != nil && strings.TrimSuffix(h.Path, "/") == strings.TrimSuffix(u.Path, "/")
}

// statusCode reads "HTTP/1.1 200 OK"; 0 if it cannot.
func statusCode(s string) int {
	f := strings.Fields(s)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

var errNotMultistatus = errors.New("the answer is not a WebDAV multistatus")

// eachResponse reads the multistatus in b one response at a time, calling
// f with each; b's byte budget starts afresh after each one when perItem
// is set, so that the answer as a whole may be of any size while one
// response may not.
func eachResponse(b *body, perItem bool, f func(*response) error) error {
	d := xml.NewDecoder(b)
	depth := 0
	root := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if !root {
				return errNotMultistatus
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				if t.Name.Space != nsDAV || t.Name.Local != "multistatus" {
					return errNotMultistatus
				}
				root = true
			case depth == 2 && t.Name.Space == nsDAV && t.Name.Local == "response":
				var r response
				if err := d.DecodeElement(&r, &t); err != nil {
					return err
				}
				depth--
				if err := f(&r); err != nil {
					return err
				}
				if perItem {
					b.rearm()
				}
			}
		case xml.EndElement:
			depth--
		}
	}
}

// propfind sends a PROPFIND and reads the whole multistatus, which may be
// at most limit bytes; at is the URL that answered, after redirects.
func (s *session) propfind(u *url.URL, depth, body string, limit int64) (rs []response, at *url.URL, err error) {
	at, b, err := s.do("PROPFIND", u, depth, body, limit)
	if err != nil {
		return nil, nil, err
	}
	defer b.Close()
	err = eachResponse(b, false, func(r *response) error {
		rs = append(rs, *r)
		return nil
	})
	return rs, at, err
}

// do sends one request with the login and returns the answer, which must
// be a multistatus (207), with its body bounded by limit bytes (see
// eachResponse) and by ReplyTimeout for each pause. It follows redirects
// itself, keeping the method and the body, to https URLs only, so the
// login never goes out unencrypted; at is the URL that answered.
func (s *session) do(method string, u *url.URL, depth, payload string, limit int64) (at *url.URL, b *body, err error) {
	for hop := 0; ; hop++ {
		if u.Scheme != "https" {
			return nil, nil, &insecureError{u}
		}
		ctx, cancel := context.WithCancel(s.ctx)
		tr := &connTrace{}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, tr.trace()), method, u.String(), strings.NewReader(payload))
		if err != nil {
			cancel()
			return nil, nil, err
		}
		req.SetBasicAuth(s.user, s.pw)
		req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
		req.Header.Set("Depth", depth)
		req.Header.Set("User-Agent", "Postcard")
		resp, err := s.hc.Do(req)
		s.reportConn(tr)
		if err != nil {
			cancel()
			return nil, nil, &transportError{err: err, trace: tr.snapshot()}
		}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			cancel()
			loc := resp.Header.Get("Location")
			next, perr := u.Parse(loc)
			if loc == "" || perr != nil {
				return nil, nil, &statusError{code: resp.StatusCode, status: resp.Status, url: u, detail: "without a valid Location"}
			}
			if hop == maxRedirects {
				return nil, nil, &statusError{code: resp.StatusCode, status: resp.Status, url: u, detail: fmt.Sprintf("after %d redirects", maxRedirects)}
			}
			u = next
			continue
		case http.StatusMultiStatus:
			return u, newBody(resp.Body, limit, s.c.replyTimeout(), cancel), nil
		}
		se := &statusError{code: resp.StatusCode, status: resp.Status, url: u, retryAfter: resp.Header.Get("Retry-After")}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		cancel()
		return nil, nil, se
	}
}

// reportConn reports the stages of the session's first connection:
// resolve, connect and tls.
func (s *session) reportConn(tr *connTrace) {
	if s.connReported || s.c.OnStage == nil {
		return
	}
	t := tr.snapshot()
	if !t.gotConn {
		return // the failure reports its stage
	}
	s.connReported = true
	if t.reused {
		return
	}
	el := time.Since(s.started)
	emit := func(st mailer.Stage, detail string) {
		s.c.OnStage(mailer.StageResult{Stage: st, OK: true, Detail: detail, Elapsed: el})
	}
	if t.addrs != "" {
		emit(mailer.StageResolve, t.addrs)
	}
	emit(mailer.StageConnect, t.remote)
	if t.tls != nil {
		emit(mailer.StageTLS, tls.VersionName(t.tls.Version)+", "+tls.CipherSuiteName(t.tls.CipherSuite))
	}
}

// connTrace records how a request's connection was made, for the stages
// and for telling where a failure happened.
type connTrace struct {
	mu sync.Mutex
	t  traceState
}

type traceState struct {
	dnsStarted, connectStarted, tlsStarted, tlsDone, gotConn, reused bool
	addrs, remote                                                    string
	tls                                                              *tls.ConnectionState
}

func (c *connTrace) trace() *httptrace.ClientTrace {
	set := func(f func(*traceState)) {
		c.mu.Lock()
		f(&c.t)
		c.mu.Unlock()
	}
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { set(func(t *traceState) { t.dnsStarted = true }) },
		DNSDone: func(i httptrace.DNSDoneInfo) {
			var a []string
			for _, ip := range i.Addrs {
				a = append(a, ip.String())
			}
			set(func(t *traceState) { t.addrs = strings.Join(a, ", ") })
		},
		ConnectStart:      func(string, string) { set(func(t *traceState) { t.connectStarted = true }) },
		TLSHandshakeStart: func() { set(func(t *traceState) { t.tlsStarted = true }) },
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			set(func(t *traceState) {
				if err == nil {
					t.tlsDone, t.tls = true, &cs
				}
			})
		},
		GotConn: func(i httptrace.GotConnInfo) {
			set(func(t *traceState) {
				t.gotConn, t.reused = true, i.Reused
				if i.Conn != nil {
					t.remote = i.Conn.RemoteAddr().String()
				}
			})
		},
	}
}

func (c *connTrace) snapshot() traceState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// body is an answer's body, bounded in size and in the pause between two
// reads.
type body struct {
	rc     io.ReadCloser
	limit  int64
	left   int64
	idle   time.Duration
	timer  *time.Timer
	cancel context.CancelFunc
	// idled is set when the server paused longer than idle and the
	// request was cancelled for it.
	idled atomic.Bool
}

func newBody(rc io.ReadCloser, limit int64, idle time.Duration, cancel context.CancelFunc) *body {
	b := &body{rc: rc, limit: limit, left: limit, idle: idle, cancel: cancel}
	b.timer = time.AfterFunc(time.Hour, func() {
		b.idled.Store(true)
		cancel()
	})
	b.timer.Stop()
	return b
}

// tooLargeError is a body read past its limit.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("the server's answer is larger than %d MB", e.limit>>20)
}

func (b *body) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// At the limit: only the end of the body may come now.
		var one [1]byte
		b.timer.Reset(b.idle)
		n, err := b.rc.Read(one[:])
		b.timer.Stop()
		if n == 0 && err == io.EOF {
			return 0, io.EOF
		}
		if n == 0 && err != nil {
			return 0, b.readErr(err)
		}
		return 0, &tooLargeError{b.limit}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	b.timer.Reset(b.idle)
	n, err := b.rc.Read(p)
	b.timer.Stop()
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		err = b.readErr(err)
	}
	return n, err
}

// readErr marks a failed read as one, for diagnose.
func (b *body) readErr(err error) error {
	return &readError{err: err, idled: b.idled.Load(), idle: b.idle}
}

// rearm gives the body its whole limit again.
func (b *body) rearm() { b.left = b.limit }

func (b *body) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel()
	return err
}

// The failures do and body return, for diagnose.
type (
	transportError struct {
		err   error
		trace traceState
	}
	readError struct {
		err   error
		idled bool
		idle  time.Duration
	}
	statusError struct {
		code       int
		status     string
		url        *url.URL
		retryAfter string
		detail     string
	}
	insecureError struct{ url *url.URL }
)

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }
func (e *readError) Error() string      { return e.err.Error() }
func (e *readError) Unwrap() error      { return e.err }
func (e *statusError) Error() string {
	s := fmt.Sprintf("%s answered %s", e.url.Redacted(), e.status)
	if e.detail != "" {
		s += " " + e.detail
	}
	return s
}
func (e *insecureError) Error() string {
	return fmt.Sprintf("the server sent Postcard on to %s, which is not https; the password is only ever sent over https", e.url.Redacted())
}

// notHere reports whether the status says the URL serves no CardDAV (so
// the next place to look may), rather than a failure of the server or
// the login.
func (e *statusError) notHere() bool {
	switch e.code {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotAcceptable,
		http.StatusConflict, http.StatusGone, http.StatusUnsupportedMediaType, http.StatusNotImplemented:
		return true
	}
	return false
}
