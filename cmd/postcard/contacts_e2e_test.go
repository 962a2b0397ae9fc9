package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/carddavtest"
	"github.com/postcard-mail/postcard/mailer/smtptest"
)

// suggestionTexts are the "text" fields of postcard contacts --json.
func suggestionTexts(t *testing.T, r runResult) []string {
	t.Helper()
	m := r.json(t)
	list, ok := m["suggestions"].([]any)
	if m["ok"] != true || !ok {
		t.Fatalf("not a search result: %v", m)
	}
	var out []string
	for _, s := range list {
		out = append(out, s.(map[string]any)["text"].(string))
	}
	return out
}

// Contacts end to end: the real binary syncs a real Radicale through a
// front that redirects as iCloud does, with the test CA from
// SSL_CERT_FILE and the password from the keyring, then searches the
// cache and the Sent record, online or not.
func TestE2E_Contacts(t *testing.T) {
	env := newE2E(t)
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{CA: e2e.ca, User: env.user, Password: env.password})
	front := carddavtest.NewRedirector(t, r)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	login := func(extra ...string) {
		t.Helper()
		env.run(t, env.password+"\n", append([]string{"login", "--no-verify", "--host", "127.0.0.1", "--port", fmt.Sprint(srv.Port()),
			"--username", env.user, "--password-stdin", "--no-sent-copy"}, extra...)...).wantCode(t, 0)
	}
	login("--contacts-url", front.URL)

	r1 := env.run(t, "", "contacts", "sync", "--json")
	r1.wantCode(t, 0)
	m := r1.json(t)
	if m["synced"] != 7.0 || m["cards"] != 7.0 || m["server"] != front.URL {
		t.Errorf("sync: %v", m)
	}
	for _, st := range []string{"✓ tls", "✓ login", "✓ discover", "✓ cards"} {
		if !strings.Contains(r1.stderr, st) {
			t.Errorf("sync did not report %q:\n%s", st, r1.stderr)
		}
	}
	if reqs := front.Requests(); len(reqs) == 0 || !reqs[0].Auth {
		t.Errorf("front saw %+v", reqs)
	}
	cache := filepath.Join(env.home, ".local", "share", "postcard", "contacts.json")
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache %s: %v", cache, err)
	}

	// Everyone written to comes first.
	for range 2 {
		env.run(t, "", "send", "--json", "--to", "Zoltan Sent <zoltan@example.net>", "--subject", "hi", "--body", "hi").wantCode(t, 0)
	}
	got := suggestionTexts(t, env.run(t, "", "contacts", "--json", "zo"))
	want := []string{"Zoltan Sent <zoltan@example.net>", "Zoë Ångström <zoe.angstrom@icloud.example>",
		"Zoë Ångström <zoe.home@example.net>", "Zoë Ångström <zoe@example.org>"}
	if !slices.Equal(got, want) {
		t.Errorf("contacts zo:\n got %q\nwant %q", got, want)
	}
	if got := suggestionTexts(t, env.run(t, "", "contacts", "--json", "MUL")); !slices.Equal(got, []string{"Jürgen Müller <juergen.mueller@example.de>"}) {
		t.Errorf("contacts MUL: %q", got)
	}
	r2 := env.run(t, "", "contacts", "luk")
	r2.wantCode(t, 0)
	if r2.stdout != "Łukasz Brzęczyszczykiewicz <lukasz@example.pl>\n" {
		t.Errorf("contacts luk: %q", r2.stdout)
	}

	// Offline: the sync fails with the mailer's diagnosis and exit code,
	// and the search still works from the cache.
	login("--contacts-url", "https://127.0.0.1:1")
	env.run(t, "", "contacts", "sync", "--json").wantFailure(t, exitUnavailable, mailer.KindConnectRefused, mailer.StageConnect)
	if got := suggestionTexts(t, env.run(t, "", "contacts", "--json", "doe")); !slices.Equal(got, []string{"Jane Doe <jane.doe@example.com>"}) {
		t.Errorf("offline search: %q", got)
	}

	// A wrong password: 401 through the redirector is auth, exit 77.
	env.run(t, "not-the-password\n", "login", "--no-verify", "--host", "127.0.0.1", "--port", fmt.Sprint(srv.Port()),
		"--username", env.user, "--password-stdin", "--contacts-url", front.URL).wantCode(t, 0)
	fail := env.run(t, "", "contacts", "sync", "--json")
	if m := fail.wantFailure(t, exitNoPerm, mailer.KindAuth, mailer.StageLogin); !strings.Contains(m["hint"].(string), "contacts") {
		t.Errorf("hint: %v", m["hint"])
	}
	if strings.Contains(fail.stdout+fail.stderr, "not-the-password") {
		t.Error("the password was printed")
	}

	// A .vcf import adds to what was synced.
	vcf := filepath.Join(t.TempDir(), "more.vcf")
	if err := os.WriteFile(vcf, []byte("BEGIN:VCARD\r\nVERSION:2.1\r\nN:Ørsted;Hans;;;\r\nEMAIL;INTERNET:hans@example.dk\r\nEND:VCARD\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env.run(t, "", "contacts", "import", "--json", vcf).wantCode(t, 0)
	if got := suggestionTexts(t, env.run(t, "", "contacts", "--json", "orst")); !slices.Equal(got, []string{"Hans Ørsted <hans@example.dk>"}) {
		t.Errorf("after import: %q", got)
	}
	st := env.run(t, "", "contacts", "--json")
	if m := st.json(t); m["synced"] != 7.0 || m["imported"] != 1.0 || m["sent"] != 1.0 {
		t.Errorf("status: %v", m)
	}
}
