package contacts

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

// The limits of a sync; Client's fields may lower them.
const (
	// DefaultTimeout bounds a whole sync, discovery included.
	DefaultTimeout = 3 * time.Minute
	// DefaultMaxContacts bounds the cards read and the addresses kept:
	// iCloud's own limit is 50,000 contacts an account.
	DefaultMaxContacts = 50_000
)

// What the server may send. A discovery answer is small; a card is read
// whole only up to maxCardBytes (photos included), and the answer holding
// the cards is read one card at a time, so memory never holds more than a
// card, whatever the size of the address book.
const (
	maxDiscoveryBytes = 1 << 20
	maxListBytes      = 4 << 20
	maxCardBytes      = 8 << 20
	maxRedirects      = 10
	maxHomes          = 10  // address book home sets of one principal
	maxAddressBooks   = 100 // in all
)

// Client reads the contacts of a CardDAV server (iCloud Contacts or any
// other) for suggestions: it finds every address book of the account
// (RFC 6764 and 6352: /.well-known/carddav, the current-user-principal,
// the address book home set) and reads every EMAIL of every card with the
// card's name. It only reads. The zero value is ready to use; the fields
// exist so tests and callers can shorten the waits.
//
// Like mailer.Client, it speaks https only, with the certificate verified
// (mailer.TrustedRoots: the system's, which honour SSL_CERT_FILE) and TLS 1.2 or newer;
// there is no setting to skip verification. The login goes with every
// request, also to a server the first one sends it on to (iCloud sends
// each account to its own pNN-contacts.icloud.com), but only ever over
// https.
type Client struct {
	// ConnectTimeout bounds resolving a host and opening a connection;
	// zero means mailer.DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// ReplyTimeout bounds the TLS handshake, the wait for each answer,
	// and each pause within an answer; zero means
	// mailer.DefaultReplyTimeout.
	ReplyTimeout time.Duration
	// Timeout bounds a whole Sync or Check; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxContacts bounds the cards read and the addresses kept; zero
	// means DefaultMaxContacts. Past it, Sync fails with KindTooLarge.
	MaxContacts int
	// RootCAs, if set, are the only authorities trusted for the server's
	// certificate; nil means the system's. For tests.
	RootCAs *x509.CertPool
	// OnStage, if set, is called (on the calling goroutine) each time a
	// stage ends, successfully or not.
	OnStage func(mailer.StageResult)
}

func (c *Client) connectTimeout() time.Duration {
	if c.ConnectTimeout > 0 {
		return c.ConnectTimeout
	}
	return mailer.DefaultConnectTimeout
}

func (c *Client) replyTimeout() time.Duration {
	if c.ReplyTimeout > 0 {
		return c.ReplyTimeout
	}
	return mailer.DefaultReplyTimeout
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) maxContacts() int {
	if c.MaxContacts > 0 {
		return c.MaxContacts
	}
	return DefaultMaxContacts
}

// Result is what a sync read.
type Result struct {
	// Contacts are every address of every card, with the card's name, in
	// the server's order; an address on two cards is kept twice.
	Contacts []Contact
	// Cards is how many cards were read, with an address or not.
	Cards int
	// AddressBooks are the URLs of the address books read.
	AddressBooks []string
}

// Sync reads every address of every card in every address book of the
// account. Cancelling ctx stops it at any stage. Every error is a
// *mailer.Error with Protocol mailer.ProtocolCardDAV, except pw's, which
// is returned as it is; none contains the password.
func (c *Client) Sync(ctx context.Context, a mailer.CardDAVAccount, pw mailer.PasswordFunc) (_ Result, err error) {
	defer markCardDAV(&err)
	s, err := c.open(ctx, a, pw)
	if err != nil {
		return Result{}, err
	}
	defer s.close()
	books, err := s.discover()
	if err != nil {
		return Result{}, err
	}
	var res Result
	s.begin(mailer.StageCards)
	for _, b := range books {
		res.AddressBooks = append(res.AddressBooks, b.url.String())
		if err := s.readCards(b.url, &res); err != nil {
			return Result{}, err
		}
	}
	s.ok(fmt.Sprintf("%d addresses on %d cards", len(res.Contacts), res.Cards))
	return res, nil
}

// Check signs in and finds the address books without reading the cards,
// for a settings pane's "Test connection". It returns every stage it went
// through, the failed one last; errors are as for Sync.
func (c *Client) Check(ctx context.Context, a mailer.CardDAVAccount, pw mailer.PasswordFunc) (_ []mailer.StageResult, err error) {
	defer markCardDAV(&err)
	var stages []mailer.StageResult
	cc := *c
	cc.OnStage = func(r mailer.StageResult) {
		stages = append(stages, r)
		if c.OnStage != nil {
			c.OnStage(r)
		}
	}
	s, err := cc.open(ctx, a, pw)
	if err != nil {
		return stages, err
	}
	defer s.close()
	_, err = s.discover()
	return stages, err
}

// markCardDAV marks an *Error as the contacts', for its hint and fix.
func markCardDAV(err *error) {
	if e, ok := (*err).(*mailer.Error); ok && e.Protocol == "" {
		c := *e
		c.Protocol = mailer.ProtocolCardDAV
		*err = &c
	}
}

// session is one sync or check, with its own connections.
type session struct {
	c       *Client
	parent  context.Context
	ctx     context.Context // parent, with the whole sync's deadline
	cancel  context.CancelFunc
	hc      *http.Client
	tr      *http.Transport
	base    *url.URL
	user    string
	pw      string
	stage   mailer.Stage
	started time.Time
	// connReported is set once the first connection's stages (resolve,
	// connect, tls) have been reported.
	connReported bool
}

func (c *Client) open(parent context.Context, a mailer.CardDAVAccount, pwf mailer.PasswordFunc) (*session, error) {
	s := &session{c: c, parent: parent, started: time.Now(), stage: mailer.StageValidate, user: strings.TrimSpace(a.Username)}
	if err := a.Validate(); err != nil {
		s.report(false, err.Error())
		return nil, err
	}
	s.base, _ = url.Parse(strings.TrimSpace(a.URL)) // Validate parsed it
	s.base.Scheme = "https"
	if pwf == nil {
		return nil, &mailer.Error{Kind: mailer.KindKeychain, Stage: mailer.StageKeychain, Detail: "no password was given"}
	}
	s.ctx, s.cancel = context.WithTimeout(parent, c.timeout())
	s.stage = mailer.StageKeychain
	if c.RootCAs == nil {
		mailer.WarmRoots()
	}
	pw, err := pwf(s.ctx)
	if err != nil {
		s.report(false, err.Error())
		s.cancel()
		return nil, err
	}
	s.pw = pw
	d := &net.Dialer{Timeout: c.connectTimeout(), KeepAlive: 30 * time.Second}
	s.tr = &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            d.DialContext,
		TLSClientConfig:        mailer.ClientTLS("", c.RootCAs),
		TLSHandshakeTimeout:    c.replyTimeout(),
		ResponseHeaderTimeout:  c.replyTimeout(),
		MaxResponseHeaderBytes: 64 << 10,
		IdleConnTimeout:        30 * time.Second,
	}
	s.hc = &http.Client{
		Transport: s.tr,
		// Redirects are followed by do, which keeps the method (net/http
		// turns a PROPFIND into a GET on a 301) and sends the login again
		// only to https.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s, nil
}

func (s *session) close() {
	s.tr.CloseIdleConnections()
	s.cancel()
}

func (s *session) begin(st mailer.Stage) { s.stage = st }

func (s *session) ok(detail string) { s.report(true, detail) }

func (s *session) report(ok bool, detail string) {
	if s.c.OnStage != nil {
		s.c.OnStage(mailer.StageResult{Stage: s.stage, OK: ok, Detail: detail, Elapsed: time.Since(s.started)})
	}
}

// book is an address book found.
type book struct {
	url  *url.URL
	name string
}

// discover finds the account's address books: the principal from
// /.well-known/carddav (else from the URL given), its address book home
// set (which iCloud puts on another host), and the address books in it. A
// URL that is itself an address book is taken as it is.
func (s *session) discover() ([]book, error) {
	s.begin(mailer.StageLogin)
	var (
		principal *url.URL
		homes     []*url.URL
		books     []book
		last      string // the last answer that was no principal
	)
	candidates := []*url.URL{s.base.ResolveReference(&url.URL{Path: "/.well-known/carddav"}), s.base}
	for _, u := range candidates {
		ms, at, err := s.propfind(u, "0", propfindDiscover, maxDiscoveryBytes)
		var se *statusError
		if errors.As(err, &se) && se.notHere() {
			last = fmt.Sprintf("%s answered %s", u.Redacted(), se.status)
			continue
		}
		if err != nil {
			return nil, s.fail(err)
		}
		for _, r := range ms {
			for _, p := range r.okProps() {
				if p.CurrentUserPrincipal != nil && principal == nil {
					principal = resolveFirst(at, p.CurrentUserPrincipal.Hrefs)
				}
				if p.HomeSet != nil {
					homes = append(homes, resolveAll(at, p.HomeSet.Hrefs)...)
				}
				if p.ResourceType != nil && p.ResourceType.AddressBook != nil && r.is(at) {
					books = append(books, book{url: at, name: p.DisplayName})
				}
			}
		}
		if principal != nil || len(homes) > 0 || len(books) > 0 {
			break
		}
		last = fmt.Sprintf("%s names no current-user-principal", at.Redacted())
	}
	if principal == nil && len(homes) == 0 && len(books) == 0 {
		return nil, s.fail(&mailer.Error{Kind: mailer.KindUnknown,
			Detail: fmt.Sprintf("%s does not look like a CardDAV server (%s)", s.base.Redacted(), last)})
	}
	if principal != nil {
		s.ok("principal " + principal.Redacted())
	} else {
		s.ok("signed in")
	}

	s.begin(mailer.StageDiscover)
	if len(books) == 0 && len(homes) == 0 {
		ms, at, err := s.propfind(principal, "0", propfindHome, maxDiscoveryBytes)
		if err != nil {
			return nil, s.fail(err)
		}
		for _, r := range ms {
			for _, p := range r.okProps() {
				if p.HomeSet != nil {
					homes = append(homes, resolveAll(at, p.HomeSet.Hrefs)...)
				}
			}
		}
		if len(homes) == 0 {
			return nil, s.fail(&mailer.Error{Kind: mailer.KindUnknown,
				Detail: fmt.Sprintf("the principal %s names no address book home", principal.Redacted())})
		}
	}
	seenHome := map[string]bool{}
	homes = slices.DeleteFunc(homes, func(h *url.URL) bool {
		dup := seenHome[h.String()]
		seenHome[h.String()] = true
		return dup
	})
	seen := map[string]bool{} // books, by URL
	for _, b := range books {
		seen[b.url.String()] = true
	}
	if len(homes) > maxHomes {
		return nil, s.fail(&mailer.Error{Kind: mailer.KindTooLarge, Detail: fmt.Sprintf("the server names %d address book homes, more than %d", len(homes), maxHomes)})
	}
	for _, h := range homes {
		ms, at, err := s.propfind(h, "1", propfindBooks, maxListBytes)
		if err != nil {
			return nil, s.fail(err)
		}
		for _, r := range ms {
			u := resolveFirst(at, r.Hrefs)
			if u == nil || seen[u.String()] {
				continue
			}
			for _, p := range r.okProps() {
				if p.ResourceType != nil && p.ResourceType.AddressBook != nil {
					seen[u.String()] = true
					books = append(books, book{url: u, name: p.DisplayName})
					break
				}
			}
			if len(books) > maxAddressBooks {
				return nil, s.fail(&mailer.Error{Kind: mailer.KindTooLarge, Detail: fmt.Sprintf("the server names more than %d address books", maxAddressBooks)})
			}
		}
	}
	names := make([]string, len(books))
	for i, b := range books {
		names[i] = b.name
		if names[i] == "" {
			names[i] = b.url.Path
		}
	}
	switch len(books) {
	case 0:
		s.ok("no address book")
	case 1:
		s.ok("1 address book: " + clean(names[0]))
	default:
		s.ok(fmt.Sprintf("%d address books: %s", len(books), clean(strings.Join(names, ", "))))
	}
	return books, nil
}

// readCards reads every card of the address book at u into res.
func (s *session) readCards(u *url.URL, res *Result) error {
	_, b, err := s.do("REPORT", u, "1", reportCards, maxCardBytes)
	if err != nil {
		return s.fail(err)
	}
	defer b.Close()
	max := s.c.maxContacts()
	err = eachResponse(b, true, func(r *response) error {
		res.Cards++
		if res.Cards > max {
			return &mailer.Error{Kind: mailer.KindTooLarge, Detail: fmt.Sprintf("the address book holds more than %d cards", max)}
		}
		for _, p := range r.okProps() {
			if p.AddressData == nil {
				continue
			}
			_, err := readCards(strings.NewReader(*p.AddressData), func(cs []Contact) error {
				if len(res.Contacts)+len(cs) > max {
					return &mailer.Error{Kind: mailer.KindTooLarge, Detail: fmt.Sprintf("the address book holds more than %d addresses", max)}
				}
				res.Contacts = append(res.Contacts, cs...)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// resolveFirst resolves the first href against base; nil if there is none
// or it is not a URL.
func resolveFirst(base *url.URL, hrefs []string) *url.URL {
	for _, h := range hrefs {
		if u, err := base.Parse(strings.TrimSpace(h)); err == nil {
			u.Fragment = ""
			return u
		}
	}
	return nil
}

func resolveAll(base *url.URL, hrefs []string) []*url.URL {
	var out []*url.URL
	for _, h := range hrefs {
		if u := resolveFirst(base, []string{h}); u != nil {
			out = append(out, u)
		}
	}
	return out
}
