package contacts_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/carddavtest"
	"github.com/postcard-mail/postcard/mailer/contacts"
)

func TestCache_RoundTrip(t *testing.T) {
	c := contacts.Cache{Dir: filepath.Join(t.TempDir(), "postcard")}
	l, err := c.Synced()
	if err != nil || len(l.Contacts) != 0 || !l.Updated.IsZero() {
		t.Fatalf("empty cache: %+v, %v", l, err)
	}
	want := contacts.List{Server: "https://contacts.icloud.com", Account: "ann@icloud.com", Updated: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
		Contacts: []contacts.Contact{{Name: "Zoë Ångström", Email: "zoe@example.org"}, {Email: "x@example.org"}}}
	if err := c.SaveSynced(want); err != nil {
		t.Fatal(err)
	}
	got, err := c.Synced()
	if err != nil || got.Server != want.Server || got.Account != want.Account || !got.Updated.Equal(want.Updated) || !slices.Equal(got.Contacts, want.Contacts) {
		t.Fatalf("Synced = %+v, %v; want %+v", got, err, want)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(c.Dir, contacts.SyncedFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("cache file: %v, %v; want mode 0600", fi.Mode(), err)
		}
	}
	all, err := c.Contacts()
	if err != nil || !slices.Equal(all, want.Contacts) {
		t.Errorf("Contacts = %q, %v", all, err)
	}
}

func TestCache_BadFiles(t *testing.T) {
	dir := t.TempDir()
	c := contacts.Cache{Dir: dir}
	if err := os.WriteFile(filepath.Join(dir, contacts.SyncedFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Synced(); err == nil {
		t.Error("a broken file read without error")
	}
	// An oversized file is refused without being read whole.
	f, err := os.Create(filepath.Join(dir, contacts.ImportedFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(65<<20 + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := c.Imported(); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: %v", err)
	}
	// What can be read still serves.
	if err := c.SaveSynced(contacts.List{Contacts: []contacts.Contact{{Email: "a@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	all, err := c.Contacts()
	if err == nil || len(all) != 1 {
		t.Errorf("Contacts = %v, %v; want the synced one and the imported file's error", all, err)
	}
}

func TestCache_Import(t *testing.T) {
	c := contacts.Cache{Dir: t.TempDir()}
	cards, n, err := c.Import(strings.NewReader("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEMAIL:ann@example.org\r\nEMAIL:ann@work.example\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nobody\r\nTEL:1\r\nEND:VCARD\r\n"))
	if err != nil || cards != 2 || n != 2 {
		t.Fatalf("Import = %d cards, %d addresses, %v", cards, n, err)
	}
	// A second file adds; an address seen before takes its new name.
	if _, _, err := c.Import(strings.NewReader("BEGIN:VCARD\r\nFN:Ann Example\r\nEMAIL:ANN@example.org\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:Bob\r\nEMAIL:bob@example.org\r\nEND:VCARD\r\n")); err != nil {
		t.Fatal(err)
	}
	l, err := c.Imported()
	want := []contacts.Contact{{"Ann Example", "ANN@example.org"}, {"Ann", "ann@work.example"}, {"Bob", "bob@example.org"}}
	if err != nil || !slices.Equal(l.Contacts, want) || l.Updated.IsZero() {
		t.Errorf("Imported = %+v, %v; want %q", l, err, want)
	}
	if _, _, err := c.Import(strings.NewReader("no cards here")); !errors.Is(err, contacts.ErrNoCards) {
		t.Errorf("Import of nothing: %v", err)
	}
	// Syncing never touches the imported ones.
	if err := c.SaveSynced(contacts.List{Contacts: []contacts.Contact{{Email: "s@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	if l2, _ := c.Imported(); !slices.Equal(l2.Contacts, want) {
		t.Errorf("imported after a sync: %q", l2.Contacts)
	}
}

func TestCache_Sync(t *testing.T) {
	r := carddavtest.StartRadicale(t, carddavtest.RadicaleConfig{})
	c := contacts.Cache{Dir: t.TempDir()}
	client := &contacts.Client{RootCAs: r.CA.Pool()}
	a := account(r.URL, r.User)
	l, res, err := c.Sync(context.Background(), client, a, mailer.Password(r.Password))
	if err != nil || len(l.Contacts) != len(wantDefault) || res.Cards != 7 || l.Server != r.URL || l.Account != r.User {
		t.Fatalf("Sync = %+v, %+v, %v", l, res, err)
	}
	// A failed sync keeps what was saved.
	if _, _, err := c.Sync(context.Background(), client, a, mailer.Password("wrong")); mailer.KindOf(err) != mailer.KindAuth {
		t.Fatalf("err = %v", err)
	}
	saved, err := c.Synced()
	if err != nil || !slices.Equal(sorted(saved.Contacts), wantDefault) {
		t.Errorf("after a failed sync: %+v, %v", saved, err)
	}
}
