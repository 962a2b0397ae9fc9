package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/contacts"
)

// writeSent files a message to the given recipients in the store's Sent
// folder, as if sent daysAgo.
func (tc *testCommand) writeSent(t *testing.T, daysAgo int, to string) {
	t.Helper()
	dir := filepath.Join(tc.dataDir, "sent", "cur")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	date := time.Now().Add(-time.Duration(daysAgo) * 24 * time.Hour)
	id := fmt.Sprintf("%d", date.UnixNano())
	msg := "From: me@icloud.com\r\nTo: " + to + "\r\nSubject: hi\r\nMessage-Id: <" + id + "@example>\r\nDate: " + date.Format(time.RFC1123Z) + "\r\n\r\nhi\r\n"
	if err := os.WriteFile(filepath.Join(dir, id+":2,S"), []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestContacts_Search(t *testing.T) {
	tc := newTestCommand(t)
	cache := contacts.Cache{Dir: tc.dataDir}
	if err := cache.SaveSynced(contacts.List{Server: "https://contacts.icloud.com", Updated: time.Now(), Contacts: []contacts.Contact{
		{Name: "Zoë Ångström", Email: "zoe@example.org"},
		{Name: "Mallory \x1b]0;evil\x07", Email: "mallory@example.org"},
	}}); err != nil {
		t.Fatal(err)
	}
	tc.writeSent(t, 1, "Zoran Zed <zoran@example.net>")
	tc.writeSent(t, 2, "Zoran Zed <zoran@example.net>")

	if code := tc.run("", "contacts", "zo"); code != 0 {
		t.Fatalf("exit %d: %s", code, tc.stderr)
	}
	if got, want := tc.stdout.String(), "Zoran Zed <zoran@example.net>\nZoë Ångström <zoe@example.org>\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if code := tc.run("", "contacts", "ZOE", "ang", "--json"); code != 0 {
		t.Fatalf("exit %d", code)
	}
	m := tc.json(t)
	s, _ := m["suggestions"].([]any)
	if m["ok"] != true || len(s) != 1 || s[0].(map[string]any)["address"] != "zoe@example.org" || s[0].(map[string]any)["text"] != "Zoë Ångström <zoe@example.org>" {
		t.Errorf("--json: %v", m)
	}
	// Names from outside are printed without their control characters.
	tc.run("", "contacts", "mallory")
	if strings.ContainsAny(tc.stdout.String(), "\x1b\x07") || !strings.Contains(tc.stdout.String(), "mallory@example.org") {
		t.Errorf("stdout %q", tc.stdout)
	}
	// Nothing found is not a failure; [] in JSON.
	if code := tc.run("", "contacts", "--json", "qqq"); code != 0 || !strings.Contains(tc.stdout.String(), `"suggestions":[]`) {
		t.Errorf("no match: exit %d, %s", code, tc.stdout)
	}
	if code := tc.run("", "contacts", "z"); code != exitUsage || !strings.Contains(tc.stderr.String(), "at least 2") {
		t.Errorf("one letter: exit %d, %s", code, tc.stderr)
	}
	if code := tc.run("", "contacts", "--limit", "1", "zo"); code != 0 || strings.Count(tc.stdout.String(), "\n") != 1 {
		t.Errorf("--limit 1: exit %d, %q", code, tc.stdout)
	}
	if code := tc.run("", "contacts", "--limit", "x", "zo"); code != exitUsage {
		t.Errorf("--limit x: exit %d", code)
	}
}

func TestContacts_StatusAndImport(t *testing.T) {
	tc := newTestCommand(t)
	if code := tc.run("", "contacts", "--json"); code != 0 {
		t.Fatalf("exit %d: %s", code, tc.stderr)
	}
	if m := tc.json(t); m["ok"] != true || m["synced"] != 0.0 || m["imported"] != 0.0 || m["sent"] != 0.0 {
		t.Errorf("empty status: %v", m)
	}
	vcf := filepath.Join(t.TempDir(), "people.vcf")
	os.WriteFile(vcf, []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Import\r\nEMAIL:ann@example.org\r\nEMAIL:ann@work.example\r\nEND:VCARD\r\n"), 0o600)
	if code := tc.run("", "contacts", "import", vcf); code != 0 || !strings.Contains(tc.stdout.String(), "Imported 2 addresses from 1 card") {
		t.Fatalf("import: exit %d\n%s%s", code, tc.stdout, tc.stderr)
	}
	if code := tc.run("", "contacts", "ann", "imp"); code != 0 || strings.Count(tc.stdout.String(), "Ann Import <") != 2 {
		t.Errorf("search after import: exit %d, %q", code, tc.stdout)
	}
	tc.writeSent(t, 1, "bob@example.org")
	tc.run("", "contacts")
	for _, want := range []string{"never synced", "Imported: 2 addresses", "Sent:     1 address written"} {
		if !strings.Contains(tc.stdout.String(), want) {
			t.Errorf("status does not say %q:\n%s", want, tc.stdout)
		}
	}

	empty := filepath.Join(t.TempDir(), "empty.vcf")
	os.WriteFile(empty, []byte("BEGIN:VCARD\r\nFN:Nobody\r\nEND:VCARD\r\n"), 0o600)
	if code := tc.run("", "contacts", "import", "--json", empty); code != exitDataErr {
		t.Errorf("import of no addresses: exit %d", code)
	} else if m := tc.json(t); m["kind"] != "invalid-vcf" || m["hint"] == "" {
		t.Errorf("%v", m)
	}
	if code := tc.run("", "contacts", "import", filepath.Join(t.TempDir(), "missing.vcf")); code != exitDataErr {
		t.Errorf("import of a missing file: exit %d", code)
	}
	if code := tc.run("", "contacts", "import"); code != exitUsage {
		t.Errorf("import of nothing: exit %d", code)
	}
}

func TestContacts_SyncNeedsAServer(t *testing.T) {
	tc := newTestCommand(t)
	if code := tc.run("", "contacts", "sync"); code != exitConfig {
		t.Errorf("no account: exit %d", code)
	}
	// Another provider and no contacts server named: nothing is sent
	// anywhere.
	tc.run("pw\n", "login", "--no-verify", "--host", "mail.example.org", "--username", "me@example.org", "--password-stdin")
	if code := tc.run("", "contacts", "sync", "--json"); code != exitConfig {
		t.Errorf("no server: exit %d", code)
	} else if m := tc.json(t); !strings.Contains(m["hint"].(string), "--contacts-url") {
		t.Errorf("%v", m)
	}
	tc.run("pw\n", "login", "--no-verify", "--host", "smtp.mail.me.com", "--username", "me@icloud.com", "--password-stdin", "--no-contacts")
	if code := tc.run("", "contacts", "sync"); code != exitConfig || !strings.Contains(tc.stderr.String(), "turned off") {
		t.Errorf("turned off: exit %d, %s", code, tc.stderr)
	}
}

func TestContacts_SyncFailsWithTheMailersExitCodes(t *testing.T) {
	tc := newTestCommand(t)
	if code := tc.run("pw\n", "login", "--no-verify", "--username", "me@icloud.com", "--password-stdin", "--contacts-url", "https://127.0.0.1:1"); code != 0 {
		t.Fatalf("login: exit %d: %s", code, tc.stderr)
	}
	if code := tc.run("", "contacts", "sync", "--json"); code != exitUnavailable {
		t.Errorf("exit %d, want %d", code, exitUnavailable)
	}
	m := tc.json(t)
	if m["kind"] != string(mailer.KindConnectRefused) || m["stage"] != string(mailer.StageConnect) || !strings.Contains(m["hint"].(string), "contacts server") {
		t.Errorf("%v", m)
	}
}

func TestLogin_ContactsFlags(t *testing.T) {
	tc := newTestCommand(t)
	login := func(args ...string) mailer.Account {
		t.Helper()
		if code := tc.run("pw\n", append([]string{"login", "--no-verify", "--username", "me@icloud.com", "--password-stdin"}, args...)...); code != 0 {
			t.Fatalf("login %v: exit %d: %s", args, code, tc.stderr)
		}
		a, err := mailer.LoadAccount(tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := login("--contacts-url", "https://dav.example.org/dav/"); a.ContactsURL != "https://dav.example.org/dav/" || a.NoContacts {
		t.Errorf("--contacts-url: %+v", a)
	}
	if a := login("--no-contacts"); a.ContactsURL != "https://dav.example.org/dav/" || !a.NoContacts {
		t.Errorf("--no-contacts keeps the server: %+v", a)
	}
	if a := login("--contacts"); a.NoContacts {
		t.Errorf("--contacts: %+v", a)
	}
	if a := login("--contacts-url", ""); a.ContactsURL != "" {
		t.Errorf(`--contacts-url "": %+v`, a)
	} else if srv, ok := a.Contacts(); !ok || srv.URL != mailer.ICloudContactsURL {
		t.Errorf("iCloud's by default: %+v %v", srv, ok)
	}
	if code := tc.run("pw\n", "login", "--no-verify", "--username", "me@icloud.com", "--password-stdin", "--json", "--contacts-url", "http://dav.example.org"); code != exitConfig {
		t.Errorf("http URL: exit %d", code)
	} else if m := tc.json(t); m["kind"] != string(mailer.KindInvalidAccount) || !strings.Contains(m["error"].(string), "https") {
		t.Errorf("%v", m)
	}
	if code := tc.run("", "help", "contacts"); code != 0 || !strings.Contains(tc.stdout.String(), "postcard contacts sync") {
		t.Errorf("help contacts: exit %d, %s", code, tc.stdout)
	}
}
