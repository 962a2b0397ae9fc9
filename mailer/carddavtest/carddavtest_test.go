package carddavtest_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/carddav"

	"github.com/postcard-mail/postcard/mailer/carddavtest"
)

// basicAuth sends the login with every request, redirected ones included:
// what a client must do for iCloud, whose front redirects to another host.
type basicAuth struct {
	user, password string
	next           http.RoundTripper
}

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.user, b.password)
	return b.next.RoundTrip(r)
}

func client(r *carddavtest.Radicale, password string) *http.Client {
	c := r.HTTPClient()
	c.Transport = basicAuth{r.User, password, c.Transport}
	return c
}

func TestRadicale_ThroughRedirector(t *testing.T) {
	start := time.Now()
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{})
	t.Logf("Radicale started and answering in %s", time.Since(start).Round(time.Millisecond))
	front := carddavtest.NewRedirector(t, r)
	ctx := context.Background()

	c, err := carddav.NewClient(client(r, r.Password), front.URL)
	if err != nil {
		t.Fatal(err)
	}
	principal, err := c.FindCurrentUserPrincipal(ctx)
	if err != nil {
		t.Fatalf("PROPFIND current-user-principal through the redirector: %v", err)
	}
	if principal != r.PrincipalPath {
		t.Errorf("principal %q, want %q", principal, r.PrincipalPath)
	}
	home, err := c.FindAddressBookHomeSet(ctx, principal)
	if err != nil || home != r.PrincipalPath {
		t.Fatalf("address book home set %q, %v; want %q", home, err, r.PrincipalPath)
	}
	books, err := c.FindAddressBooks(ctx, home)
	if err != nil || len(books) != 1 || books[0].Path != r.AddressBookPath {
		t.Fatalf("address books %+v, %v; want one at %s", books, err, r.AddressBookPath)
	}
	objs, err := c.QueryAddressBook(ctx, books[0].Path, &carddav.AddressBookQuery{DataRequest: carddav.AddressDataRequest{AllProp: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(carddavtest.DefaultCards()) {
		t.Fatalf("%d cards, want %d", len(objs), len(carddavtest.DefaultCards()))
	}
	emails := map[string][]string{}
	var photo string
	for _, o := range objs {
		name := o.Card.Value(vcard.FieldFormattedName)
		if name == "" {
			name = o.Card.Name().GivenName + " " + o.Card.Name().FamilyName
		}
		for _, f := range o.Card[vcard.FieldEmail] {
			emails[name] = append(emails[name], f.Group+":"+f.Value)
		}
		if p := o.Card.Value(vcard.FieldPhoto); p != "" {
			photo = p
		}
	}
	want := map[string][]string{
		"Zoë Ångström":               {"item1:zoe@example.org", ":zoe.home@example.net", "item2:zoe.angstrom@icloud.example"},
		"Jürgen Müller":              {":juergen.mueller@example.de"},
		"Łukasz Brzęczyszczykiewicz": {":lukasz@example.pl"},
		"Jane Doe":                   {":jane.doe@example.com"},
		"ACME Support":               {"item1:support@acme.example"},
	}
	for name, w := range want {
		got := emails[name]
		slices.Sort(got)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s: emails %q, want %q", name, got, w)
		}
	}
	if len(emails) != len(want) {
		t.Errorf("cards with emails: %q", emails)
	}
	if len(photo) < 2000 {
		t.Errorf("photo of %d base64 characters, want a few KB", len(photo))
	}

	// The front redirected, and the login went to Radicale again.
	reqs := front.Requests()
	if len(reqs) == 0 || !reqs[0].Auth {
		t.Errorf("front saw %+v", reqs)
	}
}

// The redirect crosses hosts as iCloud's does, so a login set once on the
// first request does not reach Radicale.
func TestRedirector_DropsLoginSetOnlyOnce(t *testing.T) {
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{})
	front := carddavtest.NewRedirector(t, r)
	c, err := carddav.NewClient(webdav.HTTPClientWithBasicAuth(r.HTTPClient(), r.User, r.Password), front.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.FindCurrentUserPrincipal(context.Background())
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want a 401 from Radicale", err)
	}
}

func TestRedirector_WellKnown(t *testing.T) {
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{Cards: []carddavtest.Card{}})
	front := carddavtest.NewRedirector(t, r)
	hc := r.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Get(front.URL + "/.well-known/carddav")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || loc != r.URL+"/" {
		t.Errorf("well-known: %d to %q, want 301 to %s/", resp.StatusCode, loc, r.URL)
	}
}

func TestRadicale_WrongPassword(t *testing.T) {
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{User: "bob@example.org", Password: "pw-of-bob", Cards: []carddavtest.Card{}})
	c, err := carddav.NewClient(client(r, "wrong"), r.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.FindCurrentUserPrincipal(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want 401", err)
	}
	c, _ = carddav.NewClient(client(r, "pw-of-bob"), r.URL)
	if p, err := c.FindCurrentUserPrincipal(context.Background()); err != nil || p != "/bob@example.org/" {
		t.Fatalf("principal %q, %v", p, err)
	}
}

func TestFailing(t *testing.T) {
	for _, f := range []carddavtest.Failure{carddavtest.Unauthorized, carddavtest.Unavailable, carddavtest.InternalError} {
		t.Run(f.String(), func(t *testing.T) {
			front := carddavtest.NewFailing(t, nil, f)
			hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: front.TLSConfig()}}
			c, _ := carddav.NewClient(webdav.HTTPClientWithBasicAuth(hc, "u", "p"), front.URL)
			_, err := c.FindCurrentUserPrincipal(context.Background())
			if err == nil || !strings.Contains(err.Error(), f.String()) {
				t.Errorf("err = %v, want one naming %s", err, f)
			}
		})
	}
	t.Run("stall", func(t *testing.T) {
		front := carddavtest.NewFailing(t, nil, carddavtest.Stall)
		hc := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{TLSClientConfig: front.TLSConfig()}}
		c, _ := carddav.NewClient(hc, front.URL)
		start := time.Now()
		_, err := c.FindCurrentUserPrincipal(context.Background())
		var ne interface{ Timeout() bool }
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("err = %v, want a timeout", err)
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("took %s", el)
		}
		select {
		case <-front.Stalled():
		default:
			t.Error("the front never held the request")
		}
	})
}
