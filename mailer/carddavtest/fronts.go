package carddavtest

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer/smtptest"
)

// Front is an HTTPS server on 127.0.0.1 that stands before a CardDAV server
// or instead of one: a redirector (NewRedirector) or a failure
// (NewFailing).
type Front struct {
	// URL is the front's base URL, "https://localhost:PORT" for a
	// redirector (see NewRedirector), "https://127.0.0.1:PORT" otherwise.
	URL  string
	Port int
	// CA signed the front's certificate.
	CA *smtptest.CA

	mu       sync.Mutex
	requests []Request
	stalled  chan struct{} // closed when a Stall front holds its first request
}

// Request is a request a Front received.
type Request struct {
	Method, Path string
	// Auth is whether it carried an Authorization header.
	Auth bool
}

// NewRedirector starts a front that answers every request with a redirect
// to target (a Radicale), as https://contacts.icloud.com sends an account
// to its own pNN-contacts.icloud.com: /.well-known/carddav gets 301 to the
// target's root, any other path 307 (which keeps the method and body, so a
// PROPFIND stays a PROPFIND) to the same path on the target.
//
// Its URL names the host "localhost" while the target's is "127.0.0.1", so
// the hosts differ as iCloud's do: Go's http.Client then drops the
// Authorization header on the redirect, and a client must send the login
// again itself (for example from its Transport), as it must for iCloud. It
// is stopped when t ends.
func NewRedirector(t testing.TB, target *Radicale) *Front {
	t.Helper()
	f := &Front{CA: target.CA}
	f.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		if strings.TrimSuffix(r.URL.Path, "/") == "/.well-known/carddav" {
			http.Redirect(w, r, target.URL+"/", http.StatusMovedPermanently)
			return
		}
		http.Redirect(w, r, target.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}), nil)
	f.URL = hostURL(f.URL, "localhost")
	return f
}

// Failure is how a failing front answers.
type Failure int

const (
	// Unauthorized answers 401 with a Basic challenge, whatever the login.
	Unauthorized Failure = iota
	// Unavailable answers 503 with Retry-After: 120, as during an outage.
	Unavailable
	// InternalError answers 500.
	InternalError
	// Stall completes the TLS handshake and reads the request, then never
	// answers (until the test ends).
	Stall
)

func (f Failure) String() string {
	switch f {
	case Unauthorized:
		return "401"
	case Unavailable:
		return "503"
	case InternalError:
		return "500"
	case Stall:
		return "stall"
	}
	return "Failure(" + strconv.Itoa(int(f)) + ")"
}

// NewFailing starts a front that fails every request as failure says, with
// a certificate signed by ca (nil: a new CA, in Front.CA). It is stopped
// when t ends.
func NewFailing(t testing.TB, ca *smtptest.CA, failure Failure) *Front {
	t.Helper()
	if ca == nil {
		var err error
		if ca, err = smtptest.NewCA("carddavtest CA"); err != nil {
			t.Fatal(err)
		}
	}
	f := &Front{CA: ca, stalled: make(chan struct{})}
	stop := make(chan struct{})
	f.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		switch failure {
		case Unauthorized:
			w.Header().Set("WWW-Authenticate", `Basic realm="carddavtest"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
		case Unavailable:
			w.Header().Set("Retry-After", "120")
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		case InternalError:
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		case Stall:
			f.mu.Lock()
			select {
			case <-f.stalled:
			default:
				close(f.stalled)
			}
			f.mu.Unlock()
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		default:
			panic(fmt.Sprintf("carddavtest: unknown failure %d", failure))
		}
	}), stop)
	return f
}

// Stalled returns a channel closed once a Stall front holds a request, so
// that a test can act at that moment without sleeping; for other fronts it
// is nil.
func (f *Front) Stalled() <-chan struct{} { return f.stalled }

// TLSConfig trusts the front's certificate and nothing else.
func (f *Front) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: f.CA.Pool(), MinVersion: tls.VersionTLS12}
}

// Requests returns the requests received so far.
func (f *Front) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

func (f *Front) record(r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization") != ""})
}

// start serves h over TLS on 127.0.0.1 until t ends; closing stop (if not
// nil) first releases stalled handlers.
func (f *Front) start(t testing.TB, h http.Handler, stop chan struct{}) {
	t.Helper()
	cert, err := f.CA.ServerCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ReadHeaderTimeout = 30 * time.Second
	srv.StartTLS()
	f.URL = srv.URL
	f.Port = srv.Listener.Addr().(*net.TCPAddr).Port
	t.Cleanup(func() {
		if stop != nil {
			close(stop)
		}
		srv.Close()
	})
}
