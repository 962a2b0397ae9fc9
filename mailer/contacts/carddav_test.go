package contacts_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/carddavtest"
	"github.com/postcard-mail/postcard/mailer/contacts"
	"github.com/postcard-mail/postcard/mailer/smtptest"
)

// wantDefault are the addresses of carddavtest.DefaultCards, by name.
var wantDefault = []contacts.Contact{
	{Name: "ACME Support", Email: "support@acme.example"},
	{Name: "Jane Doe", Email: "jane.doe@example.com"}, // no FN: from N
	{Name: "Jürgen Müller", Email: "juergen.mueller@example.de"},
	{Name: "Zoë Ångström", Email: "zoe.angstrom@icloud.example"}, // item2.EMAIL
	{Name: "Zoë Ångström", Email: "zoe.home@example.net"},
	{Name: "Zoë Ångström", Email: "zoe@example.org"}, // item1.EMAIL
	{Name: "Łukasz Brzęczyszczykiewicz", Email: "lukasz@example.pl"},
}

func sorted(cs []contacts.Contact) []contacts.Contact {
	cs = slices.Clone(cs)
	slices.SortFunc(cs, func(a, b contacts.Contact) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Email, b.Email)
	})
	return cs
}

func account(url, user string) mailer.CardDAVAccount {
	return mailer.CardDAVAccount{URL: url, Username: user}
}

// wantError checks that err is a CardDAV *mailer.Error of kind and stage,
// with a hint in the contacts' wording.
func wantError(t *testing.T, err error, kind mailer.Kind, stage mailer.Stage) *mailer.Error {
	t.Helper()
	var e *mailer.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want a *mailer.Error of kind %s", err, err, kind)
	}
	if e.Kind != kind || (stage != "" && e.Stage != stage) || e.Protocol != mailer.ProtocolCardDAV {
		t.Fatalf("err = %v: kind %s, stage %s, protocol %q; want %s at %s, carddav", err, e.Kind, e.Stage, e.Protocol, kind, stage)
	}
	if h := e.Hint(); !strings.Contains(h, "contacts") {
		t.Errorf("hint %q is not about the contacts", h)
	}
	return e
}

func TestSync_ThroughRedirector(t *testing.T) {
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{})
	front := carddavtest.NewRedirector(t, r)
	var stages []mailer.StageResult
	c := &contacts.Client{RootCAs: r.CA.Pool(), OnStage: func(s mailer.StageResult) { stages = append(stages, s) }}
	res, err := c.Sync(context.Background(), account(front.URL, r.User), mailer.Password(r.Password))
	if err != nil {
		t.Fatal(err)
	}
	if got := sorted(res.Contacts); !slices.Equal(got, wantDefault) {
		t.Errorf("contacts:\n got %q\nwant %q", got, wantDefault)
	}
	if res.Cards != len(carddavtest.DefaultCards()) {
		t.Errorf("%d cards read, want %d", res.Cards, len(carddavtest.DefaultCards()))
	}
	if len(res.AddressBooks) != 1 || !strings.HasSuffix(res.AddressBooks[0], r.AddressBookPath[strings.Index(r.AddressBookPath[1:], "/")+1:]) ||
		!strings.HasPrefix(res.AddressBooks[0], r.URL) {
		t.Errorf("address books %q, want the one on Radicale (%s)", res.AddressBooks, r.URL)
	}
	// The front redirected the first request, which carried the login;
	// Radicale, on another host, answered the rest, so the login went
	// there again.
	reqs := front.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/.well-known/carddav" || reqs[0].Method != "PROPFIND" || !reqs[0].Auth {
		t.Errorf("front saw %+v, want one PROPFIND of /.well-known/carddav with the login", reqs)
	}
	var names []string
	for _, s := range stages {
		if !s.OK {
			t.Errorf("stage %s failed: %s", s.Stage, s.Detail)
		}
		names = append(names, string(s.Stage))
	}
	if want := []string{"resolve", "connect", "tls", "login", "discover", "cards"}; !slices.Equal(names, want) {
		t.Errorf("stages %q, want %q", names, want)
	}
}

// iCloud names the address book home as a URL on another host
// (pNN-contacts.icloud.com); go-webdav keeps only its path.
func TestSync_HomeOnAnotherHost(t *testing.T) {
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{})
	var mu sync.Mutex
	var auths []bool
	front := startTLS(t, r.CA, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		auths = append(auths, req.Header.Get("Authorization") != "")
		mu.Unlock()
		if u, p, ok := req.BasicAuth(); !ok || u != r.User || p != r.Password {
			w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		var body string
		switch req.URL.Path {
		case "/.well-known/carddav":
			body = `<response><href>/.well-known/carddav</href><propstat><prop><current-user-principal><href>/1234/principal/</href></current-user-principal></prop><status>HTTP/1.1 200 OK</status></propstat></response>`
		case "/1234/principal/":
			body = `<response><href>/1234/principal/</href><propstat><prop><C:addressbook-home-set><href>` + r.URL + `:443` + r.PrincipalPath + `</href></C:addressbook-home-set></prop><status>HTTP/1.1 200 OK</status></propstat></response>`
			body = strings.Replace(body, r.URL+":443", r.URL, 1) // iCloud adds :443; Radicale's port is its own
		default:
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusMultiStatus)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">`+body+`</multistatus>`)
	}))
	c := &contacts.Client{RootCAs: r.CA.Pool()}
	res, err := c.Sync(context.Background(), account(front, r.User), mailer.Password(r.Password))
	if err != nil {
		t.Fatal(err)
	}
	if got := sorted(res.Contacts); !slices.Equal(got, wantDefault) {
		t.Errorf("contacts:\n got %q\nwant %q", got, wantDefault)
	}
	if !slices.Equal(auths, []bool{true, true}) {
		t.Errorf("front's requests carried the login: %v", auths)
	}
}

func TestSync_URLOfTheServerItself(t *testing.T) {
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{})
	for _, u := range []string{r.URL, r.URL + r.AddressBookPath} {
		res, err := (&contacts.Client{RootCAs: r.CA.Pool()}).Sync(context.Background(), account(u, r.User), mailer.Password(r.Password))
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if len(res.Contacts) != len(wantDefault) {
			t.Errorf("%s: %d contacts", u, len(res.Contacts))
		}
	}
}

func TestSync_EmptyAddressBook(t *testing.T) {
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{Cards: []carddavtest.Card{}})
	res, err := (&contacts.Client{RootCAs: r.CA.Pool()}).Sync(context.Background(), account(r.URL, r.User), mailer.Password(r.Password))
	if err != nil || len(res.Contacts) != 0 || res.Cards != 0 || len(res.AddressBooks) != 1 {
		t.Fatalf("Sync = %+v, %v; want one empty address book", res, err)
	}
}

func TestSync_WrongPassword(t *testing.T) {
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{Cards: []carddavtest.Card{}})
	front := carddavtest.NewRedirector(t, r)
	_, err := (&contacts.Client{RootCAs: r.CA.Pool()}).Sync(context.Background(), account(front.URL, r.User), mailer.Password("wrong-password"))
	e := wantError(t, err, mailer.KindAuth, mailer.StageLogin)
	if e.Fix() != mailer.SettingPassword || !strings.Contains(e.Error(), r.User) || strings.Contains(e.Error(), "wrong-password") {
		t.Errorf("err %q, fix %q", e, e.Fix())
	}
}

func TestSync_Failures(t *testing.T) {
	tests := []struct {
		failure carddavtest.Failure
		kind    mailer.Kind
		stage   mailer.Stage
		detail  string
	}{
		{carddavtest.Unauthorized, mailer.KindAuth, mailer.StageLogin, "401"},
		{carddavtest.Unavailable, mailer.KindTemporary, mailer.StageLogin, "after 120 s"},
		{carddavtest.InternalError, mailer.KindTemporary, mailer.StageLogin, "500"},
	}
	for _, tt := range tests {
		t.Run(tt.failure.String(), func(t *testing.T) {
			front := carddavtest.NewFailing(t, nil, tt.failure)
			_, err := (&contacts.Client{RootCAs: front.CA.Pool()}).Sync(context.Background(), account(front.URL, "ann@icloud.example"), mailer.Password("pw"))
			e := wantError(t, err, tt.kind, tt.stage)
			if !strings.Contains(e.Error(), tt.detail) {
				t.Errorf("err %q does not say %q", e, tt.detail)
			}
			if tt.kind == mailer.KindTemporary && !e.Temporary() {
				t.Errorf("a %s is not Temporary", tt.failure)
			}
		})
	}
}

func TestSync_StallTimesOut(t *testing.T) {
	front := carddavtest.NewFailing(t, nil, carddavtest.Stall)
	const reply = 300 * time.Millisecond
	start := time.Now()
	_, err := (&contacts.Client{RootCAs: front.CA.Pool(), ReplyTimeout: reply}).Sync(context.Background(), account(front.URL, "ann@icloud.example"), mailer.Password("pw"))
	el := time.Since(start)
	wantError(t, err, mailer.KindTimeout, mailer.StageLogin)
	if el < reply || el > reply+2*time.Second {
		t.Errorf("gave up after %s, want about %s", el, reply)
	}
	select {
	case <-front.Stalled():
	default:
		t.Error("the front never held the request")
	}
}

func TestSync_WholeSyncIsBounded(t *testing.T) {
	front := carddavtest.NewFailing(t, nil, carddavtest.Stall)
	start := time.Now()
	_, err := (&contacts.Client{RootCAs: front.CA.Pool(), Timeout: 300 * time.Millisecond}).Sync(context.Background(), account(front.URL, "ann@icloud.example"), mailer.Password("pw"))
	e := wantError(t, err, mailer.KindTimeout, "")
	if el := time.Since(start); el > 2*time.Second || !strings.Contains(e.Error(), "300ms") {
		t.Errorf("%v after %s", e, el)
	}
}

func TestSync_Cancel(t *testing.T) {
	front := carddavtest.NewFailing(t, nil, carddavtest.Stall)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-front.Stalled()
		cancel()
	}()
	start := time.Now()
	_, err := (&contacts.Client{RootCAs: front.CA.Pool()}).Sync(ctx, account(front.URL, "ann@icloud.example"), mailer.Password("pw"))
	wantError(t, err, mailer.KindCancelled, "")
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancel took %s", el)
	}
}

func TestSync_UntrustedCertificate(t *testing.T) {
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{Cards: []carddavtest.Card{}})
	front := carddavtest.NewRedirector(t, r)
	other, err := smtptest.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&contacts.Client{RootCAs: other.Pool()}).Sync(context.Background(), account(front.URL, r.User), mailer.Password(r.Password))
	e := wantError(t, err, mailer.KindTLSCertificate, mailer.StageTLS)
	if e.Fix() != mailer.SettingContactsURL {
		t.Errorf("fix %q", e.Fix())
	}
	if reqs := front.Requests(); len(reqs) != 0 {
		t.Errorf("requests went out over an untrusted connection: %+v", reqs)
	}
}

func TestSync_ConnectionRefused(t *testing.T) {
	_, err := (&contacts.Client{}).Sync(context.Background(), account("https://127.0.0.1:1", "ann@icloud.example"), mailer.Password("pw"))
	wantError(t, err, mailer.KindConnectRefused, mailer.StageConnect)
}

func TestSync_HostNotFound(t *testing.T) {
	// .invalid never resolves (RFC 6761); a resolver that does not answer
	// in time is a DNS failure too.
	_, err := (&contacts.Client{ConnectTimeout: 3 * time.Second}).Sync(context.Background(), account("https://contacts.example.invalid", "ann@icloud.example"), mailer.Password("pw"))
	e := wantError(t, err, mailer.KindDNS, mailer.StageResolve)
	if !strings.Contains(e.Error(), "contacts.example.invalid") || e.Fix() != mailer.SettingContactsURL {
		t.Errorf("err %q, fix %q", e, e.Fix())
	}
}

func TestSync_PlainHTTPServer(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, err := (&contacts.Client{}).Sync(context.Background(), account(strings.Replace(srv.URL, "http:", "https:", 1), "ann@icloud.example"), mailer.Password("pw"))
	wantError(t, err, mailer.KindTLSUnavailable, mailer.StageTLS)
	if hits.Load() != 0 {
		t.Error("a request reached the plain-text server")
	}
}

// A redirect to http:// is not followed: the login would go unencrypted.
func TestSync_NoRedirectToHTTP(t *testing.T) {
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { plainHits.Add(1) }))
	defer plain.Close()
	ca, err := smtptest.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	front := startTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	_, err = (&contacts.Client{RootCAs: ca.Pool()}).Sync(context.Background(), account(front, "ann@icloud.example"), mailer.Password("pw"))
	e := wantError(t, err, mailer.KindTLSUnavailable, "")
	if !strings.Contains(e.Error(), "not https") || plainHits.Load() != 0 {
		t.Errorf("err %q; the plain server got %d requests", e, plainHits.Load())
	}
}

func TestSync_NotCardDAV(t *testing.T) {
	ca, err := smtptest.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	front := startTLS(t, ca, http.NotFoundHandler())
	_, err = (&contacts.Client{RootCAs: ca.Pool()}).Sync(context.Background(), account(front+"/dav", "ann@icloud.example"), mailer.Password("pw"))
	e := wantError(t, err, mailer.KindUnknown, mailer.StageLogin)
	if !strings.Contains(e.Error(), "does not look like a CardDAV server") || !strings.Contains(e.Error(), "404") {
		t.Errorf("err %q", e)
	}
}

func TestCheck(t *testing.T) {
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{})
	front := carddavtest.NewRedirector(t, r)
	stages, err := (&contacts.Client{RootCAs: r.CA.Pool()}).Check(context.Background(), account(front.URL, r.User), mailer.Password(r.Password))
	if err != nil {
		t.Fatal(err)
	}
	last := stages[len(stages)-1]
	if last.Stage != mailer.StageDiscover || !last.OK || last.Detail != "1 address book: Contacts" {
		t.Errorf("stages %+v", stages)
	}
	stages, err = (&contacts.Client{RootCAs: r.CA.Pool()}).Check(context.Background(), account(front.URL, r.User), mailer.Password("wrong"))
	wantError(t, err, mailer.KindAuth, mailer.StageLogin)
	if last := stages[len(stages)-1]; last.OK || last.Stage != mailer.StageLogin {
		t.Errorf("stages %+v", stages)
	}
}

func TestSync_InvalidAccount(t *testing.T) {
	for _, u := range []string{"http://contacts.example.org", "https://ann:pw@contacts.example.org", "contacts.example.org", ""} {
		_, err := (&contacts.Client{}).Sync(context.Background(), account(u, "ann@icloud.example"), mailer.Password("pw"))
		e := wantError(t, err, mailer.KindInvalidAccount, mailer.StageValidate)
		if e.Setting != mailer.SettingContactsURL || strings.Contains(e.Error(), ":pw@") {
			t.Errorf("%q: %v (setting %q)", u, e, e.Setting)
		}
	}
}

// A server that never stops sending: the sync fails, having read a
// bounded amount, with memory bounded too.
func TestSync_FloodIsBounded(t *testing.T) {
	ca, err := smtptest.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	card := `<response><href>/home/book/%d.vcf</href><propstat><prop><C:address-data>BEGIN:VCARD&#13;
VERSION:3.0&#13;
FN:Flood %d&#13;
EMAIL:flood%d@example.org&#13;
END:VCARD&#13;
</C:address-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>`
	tests := []struct {
		name string
		// flood is what the REPORT (or, for "discovery", the first
		// PROPFIND) answers after its opening, written until the client
		// stops reading.
		report, discovery func(i int) string
		detail            string
	}{
		{"one endless card", func(i int) string {
			if i == 0 {
				return `<response><href>/home/book/a.vcf</href><propstat><prop><C:address-data>BEGIN:VCARD&#13;` + "\n"
			}
			return "NOTE:" + strings.Repeat("x", 1000) + "&#13;\n"
		}, nil, "8 MB"},
		{"endless cards", func(i int) string { return fmt.Sprintf(card, i, i, i) }, nil, "more than 2000 cards"},
		{"endless space between cards", func(i int) string { return strings.Repeat(" ", 1000) }, nil, "8 MB"},
		{"endless discovery", nil, func(i int) string { return "<response><href>/x</href></response>" }, "1 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var written atomic.Int64
			flood := func(w http.ResponseWriter, r *http.Request, f func(int) string) {
				w.WriteHeader(http.StatusMultiStatus)
				io.WriteString(w, `<?xml version="1.0"?><multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">`)
				for i := 0; ; i++ {
					n, err := io.WriteString(w, f(i))
					written.Add(int64(n))
					if err != nil || r.Context().Err() != nil {
						return
					}
				}
			}
			front := startTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/.well-known/carddav" && tt.discovery != nil:
					flood(w, r, tt.discovery)
				case r.URL.Path == "/.well-known/carddav":
					w.WriteHeader(http.StatusMultiStatus)
					io.WriteString(w, `<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><response><href>/.well-known/carddav</href><propstat><prop><C:addressbook-home-set><href>/home/</href></C:addressbook-home-set></prop></propstat></response></multistatus>`)
				case r.URL.Path == "/home/":
					w.WriteHeader(http.StatusMultiStatus)
					io.WriteString(w, `<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><response><href>/home/book/</href><propstat><prop><resourcetype><collection/><C:addressbook/></resourcetype></prop></propstat></response></multistatus>`)
				case r.URL.Path == "/home/book/" && r.Method == "REPORT":
					flood(w, r, tt.report)
				default:
					http.NotFound(w, r)
				}
			}))
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := (&contacts.Client{RootCAs: ca.Pool(), MaxContacts: 2000}).Sync(context.Background(), account(front, "ann@icloud.example"), mailer.Password("pw"))
			runtime.ReadMemStats(&after)
			e := wantError(t, err, mailer.KindTooLarge, "")
			if !strings.Contains(e.Error(), tt.detail) {
				t.Errorf("err %q does not say %q", e, tt.detail)
			}
			// The heap's reservation never shrinks, so its growth bounds
			// the peak.
			grew := int64(after.HeapSys) - int64(before.HeapSys)
			t.Logf("server wrote %d KB before the client stopped; heap grew by %d KB", written.Load()>>10, grew>>10)
			if grew > 64<<20 {
				t.Errorf("the heap grew by %d MB", grew>>20)
			}
			if written.Load() > 64<<20 {
				t.Errorf("the client read on for %d MB", written.Load()>>20)
			}
		})
	}
}

// startTLS serves h over TLS on 127.0.0.1 with a certificate from ca
// until t ends, and returns its URL.
func startTLS(t *testing.T, ca *smtptest.CA, h http.Handler) string {
	t.Helper()
	cert, err := ca.ServerCert("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}
