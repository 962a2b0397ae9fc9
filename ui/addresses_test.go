package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/contacts"
)

// fakeContacts is a CardDAV server in a list.
type fakeContacts struct {
	list []contacts.Contact
	err  error
}

func (f *fakeContacts) Sync(ctx context.Context, a mailer.CardDAVAccount, pw mailer.PasswordFunc) (contacts.Result, error) {
	if _, err := pw(ctx); err != nil {
		return contacts.Result{}, err
	}
	return contacts.Result{Contacts: f.list, Cards: len(f.list)}, f.err
}

func (f *fakeContacts) Check(ctx context.Context, a mailer.CardDAVAccount, pw mailer.PasswordFunc) ([]mailer.StageResult, error) {
	return []mailer.StageResult{{Stage: mailer.StageLogin, OK: true}, {Stage: mailer.StageDiscover, OK: true}}, f.err
}

func contactsHarness(t *testing.T, fc *fakeContacts) *harness {
	t.Helper()
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, contacts: fc})
	h.wait(eventContacts)
	h.until("the index", func() bool { return h.w.index.Load() != nil && h.w.index.Load().Len() > 0 })
	return h
}

func key(e fyne.Focusable, name fyne.KeyName) { e.TypedKey(&fyne.KeyEvent{Name: name}) }

// The keyboard flow of the suggestions: from the second character, Down
// chooses, Enter accepts "Name <address>, ", Escape closes, and Tab
// accepts only while the list shows.
func TestSuggest_KeyboardFlow(t *testing.T) {
	fc := &fakeContacts{list: []contacts.Contact{{Name: "Zoë Ångström", Email: "zoe@example.se"}, {Name: "Zoran Zed", Email: "zoran@example.net"}, {Name: "Bob Baker", Email: "bob@example.org"}}}
	h := contactsHarness(t, fc)
	p := h.w.compose
	c := h.w.win.Canvas()
	c.Focus(p.to)
	test.Type(p.to, "z")
	if p.to.suggest.open() {
		t.Fatal("suggestions after one character")
	}
	test.Type(p.to, "o")
	if !p.to.suggest.open() || len(p.to.suggest.items) != 2 {
		t.Fatalf("suggestions %+v", p.to.suggest.items)
	}
	if !p.to.AcceptsTab() {
		t.Error("Tab does not go to the open list")
	}
	key(p.to, fyne.KeyDown)
	key(p.to, fyne.KeyReturn)
	h.pump()
	if p.to.Text != "Zoran Zed <zoran@example.net>, " || p.to.suggest.open() {
		t.Fatalf("To %q, list open %v", p.to.Text, p.to.suggest.open())
	}
	// Accents and case ignored: "ang" finds Ångström; Tab accepts.
	test.Type(p.to, "ang")
	if !p.to.suggest.open() {
		t.Fatal("no suggestion for ang")
	}
	key(p.to, fyne.KeyTab)
	h.pump()
	if p.to.Text != "Zoran Zed <zoran@example.net>, Zoë Ångström <zoe@example.se>, " {
		t.Fatalf("To %q", p.to.Text)
	}
	// Escape closes; with the list closed, Tab moves on as always.
	test.Type(p.to, "bo")
	key(p.to, fyne.KeyEscape)
	if p.to.suggest.open() || p.to.AcceptsTab() {
		t.Fatal("Escape did not close the list")
	}
	test.FocusNext(c)
	if c.Focused() != p.cc {
		t.Errorf("Tab with the list closed went to %T", c.Focused())
	}
	// The mouse: a tap on a row accepts it.
	c.Focus(p.cc)
	test.Type(p.cc, "bob")
	test.Tap(p.cc.suggest.rows[0])
	h.pump()
	if p.cc.Text != "Bob Baker <bob@example.org>, " {
		t.Errorf("Cc %q", p.cc.Text)
	}
}

// Who was written to is suggested first, after a send.
func TestSuggest_SentRanksFirst(t *testing.T) {
	fc := &fakeContacts{list: []contacts.Contact{{Name: "Anna Contact", Email: "anna@example.com"}}}
	h := contactsHarness(t, fc)
	h.typeDraft(Draft{To: "Anders Sent <anders@example.org>", Subject: "s", Body: "b"})
	h.sendAndWait()
	h.until("the index with Sent", func() bool {
		s := h.w.index.Load().Suggest("an", 5)
		return len(s) == 2 && s[0].Address == "anders@example.org"
	})
}

// A failed sync never blocks typing; Settings says why, with the hint.
func TestContacts_SyncFailureShowsInSettings(t *testing.T) {
	fc := &fakeContacts{err: &mailer.Error{Kind: mailer.KindAuth, Stage: mailer.StageLogin, Protocol: mailer.ProtocolCardDAV}}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, contacts: fc})
	h.wait(eventContacts)
	p := h.w.settings
	h.until("the status", func() bool { return strings.Contains(p.contactsForm.status.Text, "could not be synced") })
	if !strings.Contains(p.contactsForm.status.Text, mailer.HintFor(mailer.KindAuth).Title[1:]) {
		t.Errorf("status %q", p.contactsForm.status.Text)
	}
	fc.err = nil
	fc.list = []contacts.Contact{{Name: "Carol", Email: "carol@example.net"}}
	test.Tap(p.contactsForm.sync)
	h.wait(eventContacts)
	h.until("the status", func() bool { return strings.Contains(p.contactsForm.status.Text, "1 contacts, synced") })
}

// A new message starts with the From's signature under "-- "; another From
// swaps it, never twice; a message holding only its signature is empty.
func TestSignature_InsertedAndSwapped(t *testing.T) {
	a := icloudAccount()
	a.DisplayName, a.Signature = "Me", "Me\nphone 123"
	a.Aliases = []mailer.Identity{{Address: "me@example.org", Name: "Me at work", Signature: "Me, Example Org"}, {Address: "quiet@example.org"}}
	h := newHarness(t, setup{account: a, password: testPassword})
	p := h.w.compose
	if got := p.body.Text(); got != "\n\n-- \nMe\nphone 123\n" {
		t.Fatalf("new message body %q", got)
	}
	h.shortcut(ctrlEnter)
	if !strings.Contains(p.note.Text, "Nothing to send") {
		t.Errorf("a message holding only its signature was not empty: %q", p.note.Text)
	}
	if len(p.from.Options) != 3 || p.from.Selected != "Me <me@icloud.com>" {
		t.Fatalf("From picker %q / %q", p.from.Options, p.from.Selected)
	}
	p.from.SetSelected("Me at work <me@example.org>")
	if got := p.body.Text(); got != "\n\n-- \nMe, Example Org\n" {
		t.Fatalf("after the From changed %q", got)
	}
	p.from.SetSelected("quiet@example.org")
	if got := p.body.Text(); strings.Contains(got, "-- ") {
		t.Fatalf("no signature for this From, but %q", got)
	}
	p.from.SetSelected("Me <me@icloud.com>")
	p.from.SetSelected("Me at work <me@example.org>")
	if got := p.body.Text(); strings.Count(got, "-- \n") != 1 {
		t.Fatalf("signature twice: %q", got)
	}
	// Sent from the alias, with its name.
	h.typeDraft(Draft{To: "bob@example.org", Subject: "From work"})
	h.sendAndWait()
	hdr, body := h.mailer.Sends()[0].message(t)
	if hdr.Get("From") != `"Me at work" <me@example.org>` || !strings.Contains(body, "-- \nMe, Example Org") {
		t.Errorf("From %q, body %q", hdr.Get("From"), body)
	}
	if h.mailer.Sends()[0].From != "me@example.org" {
		t.Errorf("envelope from %q", h.mailer.Sends()[0].From)
	}
}

// A quoted "-- " is someone else's: the signature is not swapped into it.
func TestSignature_NotInQuotedText(t *testing.T) {
	body, changed := swapSignature("Hi\n> -- \n> theirs\n", "", "mine")
	if !changed || body != "Hi\n> -- \n> theirs\n\n-- \nmine\n" {
		t.Errorf("swap = %q, %v", body, changed)
	}
	body, changed = swapSignature("Hi\n\n-- \nedited by me\n", "mine", "other")
	if changed {
		t.Errorf("an edited signature was replaced: %q", body)
	}
}

// A field holding more addresses than fit says how many.
func TestRecipients_CountWhenOverflowing(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.compose
	var list []string
	for i := range 12 {
		list = append(list, "person"+strings.Repeat("x", i)+"@example.org")
	}
	p.to.SetText(strings.Join(list, ", "))
	if !p.to.count.Visible() || p.to.count.Text != "12 addresses" {
		t.Errorf("count %q shown %v", p.to.count.Text, p.to.count.Visible())
	}
	p.to.SetText("one@example.org")
	if p.to.count.Visible() {
		t.Error("count for one address")
	}
}
