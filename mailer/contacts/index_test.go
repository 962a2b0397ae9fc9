package contacts_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer/contacts"
	"github.com/postcard-mail/postcard/mailer/store"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func sent(daysAgo int, to ...string) store.SentItem {
	return store.SentItem{Date: now.Add(-time.Duration(daysAgo) * 24 * time.Hour), To: to}
}

func texts(ss []contacts.Suggestion) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Text
	}
	return out
}

var book = []contacts.Contact{
	{Name: "Zoë Ångström", Email: "zoe@example.org"},
	{Name: "Zoë Ångström", Email: "zoe.home@example.net"},
	{Name: "Jürgen Müller", Email: "juergen.mueller@example.de"},
	{Name: "Łukasz Brzęczyszczykiewicz", Email: "lukasz@example.pl"},
	{Name: "Jane Doe", Email: "jane.doe@example.com"},
	{Name: "Doe, John", Email: "john@example.com"},
	{Name: "Jean-Luc O'Brien", Email: "jl.obrien+news@mail.example.ie"},
	{Name: "", Email: "noname@example.org"},
}

func TestSuggest(t *testing.T) {
	ix := contacts.NewIndex(nil, book, now)
	tests := []struct {
		query string
		want  []string
	}{
		// Accents and case ignored, either way round; the same name
		// sorts by address.
		{"zoe", []string{"Zoë Ångström <zoe.home@example.net>", "Zoë Ångström <zoe@example.org>"}},
		{"ZOË", []string{"Zoë Ångström <zoe.home@example.net>", "Zoë Ångström <zoe@example.org>"}},
		{"angs", []string{"Zoë Ångström <zoe.home@example.net>", "Zoë Ångström <zoe@example.org>"}},
		{"Ångs", []string{"Zoë Ångström <zoe.home@example.net>", "Zoë Ångström <zoe@example.org>"}},
		{"mull", []string{"Jürgen Müller <juergen.mueller@example.de>"}},
		{"luk", []string{"Łukasz Brzęczyszczykiewicz <lukasz@example.pl>"}},
		{"brzę", []string{"Łukasz Brzęczyszczykiewicz <lukasz@example.pl>"}},
		// Any word of the name or the address, split at . _ - + @.
		{"mueller", []string{"Jürgen Müller <juergen.mueller@example.de>"}},
		{"home", []string{"Zoë Ångström <zoe.home@example.net>"}},
		{"news", []string{"Jean-Luc O'Brien <jl.obrien+news@mail.example.ie>"}},
		{"luc", []string{"Jean-Luc O'Brien <jl.obrien+news@mail.example.ie>"}},
		{"obri", []string{"Jean-Luc O'Brien <jl.obrien+news@mail.example.ie>"}},
		{"jean-l", []string{"Jean-Luc O'Brien <jl.obrien+news@mail.example.ie>"}},
		{"zoe.h", []string{"Zoë Ångström <zoe.home@example.net>"}},
		{"zoe@example.org", []string{"Zoë Ångström <zoe@example.org>"}},
		{"nonam", []string{"noname@example.org"}},
		// Only the start of a word.
		{"ller", nil},
		{"oë", nil},
		// Several words: each must start a word.
		{"jane do", []string{"Jane Doe <jane.doe@example.com>"}},
		{"doe j", []string{`"Doe, John" <john@example.com>`, "Jane Doe <jane.doe@example.com>"}},
		{"doe jo", []string{`"Doe, John" <john@example.com>`}},
		{"  Doe,   John ", []string{`"Doe, John" <john@example.com>`}},
		// From the second character.
		{"z", nil},
		{"", nil},
		{"  ", nil},
		{"zo", []string{"Zoë Ångström <zoe.home@example.net>", "Zoë Ångström <zoe@example.org>"}},
	}
	for _, tt := range tests {
		if got := texts(ix.Suggest(tt.query, 0)); !slices.Equal(got, tt.want) {
			t.Errorf("Suggest(%q) = %q, want %q", tt.query, got, tt.want)
		}
	}
}

func TestSuggest_SentFirstByFrequencyAndRecency(t *testing.T) {
	items := []store.SentItem{
		// Often, but long ago.
		sent(400, "Mara Old <mara.old@example.org>"),
		sent(390, "Mara Old <mara.old@example.org>"),
		sent(380, "Mara Old <mara.old@example.org>"),
		// Often and lately.
		sent(3, "Mark Often <mark@example.org>", "Dan <dan@example.org>"),
		sent(2, "Mark Often <mark@example.org>"),
		sent(1, "mark@example.org"),
		// Once, yesterday; in Cc twice in one message counts once.
		store.SentItem{Date: now.Add(-24 * time.Hour), Cc: []string{"Max Once <MAX@example.org>", "max@example.org"}},
		// Once, a week ago.
		sent(7, "Maya Week <maya@example.org>"),
	}
	cards := []contacts.Contact{
		{Name: "Martha Card", Email: "martha@example.org"},
		{Name: "Marc Aardvark", Email: "marc@example.org"},
		// In Sent too: the card's name wins, no duplicate.
		{Name: "Maximilian Once", Email: "max@example.org"},
	}
	ix := contacts.NewIndex(items, cards, now)
	got := ix.Suggest("ma", 0)
	want := []string{
		"Mark Often <mark@example.org>",
		"Maximilian Once <MAX@example.org>",
		"Maya Week <maya@example.org>",
		"Mara Old <mara.old@example.org>",
		"Marc Aardvark <marc@example.org>",
		"Martha Card <martha@example.org>",
	}
	if !slices.Equal(texts(got), want) {
		t.Errorf("Suggest(ma) =\n %q\nwant\n %q", texts(got), want)
	}
	if got[0].Sent != 3 || !got[0].LastSent.Equal(now.Add(-24*time.Hour)) || got[0].Contact {
		t.Errorf("first: %+v", got[0])
	}
	if got[1].Sent != 1 || !got[1].Contact {
		t.Errorf("second: %+v", got[1])
	}
	// The name written to matches too, though the card's is shown.
	if got := texts(ix.Suggest("max on", 0)); !slices.Equal(got, []string{"Maximilian Once <MAX@example.org>"}) {
		t.Errorf("Suggest(max on) = %q", got)
	}
	if got := texts(ix.Suggest("ma", 2)); !slices.Equal(got, want[:2]) {
		t.Errorf("limit 2: %q", got)
	}
	if ix.Len() != 7 {
		t.Errorf("Len = %d, want 7 addresses", ix.Len())
	}
}

func TestSuggest_SentRecipientsAsTheStoreShowsThem(t *testing.T) {
	ix := contacts.NewIndex([]store.SentItem{
		sent(1, "Doe, Jane <jane@example.org>", `"Q \"Quote\" Person" <q@example.org>`, "bob@example.org <bob@example.org>",
			"undisclosed-recipients:;", "not an address", "Eve\x1b[2J <eve@example.org>"),
	}, nil, now)
	got := texts(ix.Suggest("example", 0))
	want := []string{`"Doe, Jane" <jane@example.org>`, `"Q \"Quote\" Person" <q@example.org>`, "bob@example.org", `"Eve[2J" <eve@example.org>`}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ name, addr, want string }{
		{"", "a@example.org", "a@example.org"},
		{"Ann Example", "a@example.org", "Ann Example <a@example.org>"},
		{"Zoë Ångström", "z@example.org", "Zoë Ångström <z@example.org>"},
		{"Doe, Jane", "j@example.org", `"Doe, Jane" <j@example.org>`},
		{"J. Smith", "j@example.org", `"J. Smith" <j@example.org>`},
		{`Say "hi" \ bye`, "s@example.org", `"Say \"hi\" \\ bye" <s@example.org>`},
		{"Line\r\nBreak", "l@example.org", "Line Break <l@example.org>"},
	}
	for _, tt := range tests {
		if got := contacts.Format(tt.name, tt.addr); got != tt.want {
			t.Errorf("Format(%q, %q) = %q, want %q", tt.name, tt.addr, got, tt.want)
		}
	}
}

func TestIndex_Concurrent(t *testing.T) {
	ix := contacts.NewIndex([]store.SentItem{sent(1, "Zed <zed@example.org>")}, book, now)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				q := []string{"zo", "mu", "doe j", "ze"}[(i+j)%4]
				if len(ix.Suggest(q, 5)) == 0 {
					t.Errorf("nothing for %q", q)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestIndex_Empty(t *testing.T) {
	if got := contacts.NewIndex(nil, nil, now).Suggest("anything", 10); got != nil {
		t.Errorf("%v", got)
	}
	if got := contacts.NewIndex(nil, book, now).Suggest("xy", 10); got != nil {
		t.Errorf("%v", got)
	}
}

func ExampleIndex_Suggest() {
	ix := contacts.NewIndex(
		[]store.SentItem{{Date: time.Now(), To: []string{"Bob Baker <bob@example.org>"}}},
		[]contacts.Contact{{Name: "Zoë Ångström", Email: "zoe@example.org"}, {Name: "Bobbie Angus", Email: "bobbie@example.net"}},
		time.Now())
	for _, s := range ix.Suggest("bo", 10) {
		fmt.Println(s.Text)
	}
	fmt.Println(ix.Suggest("ANG", 10)[0].Text)
	// Output:
	// Bob Baker <bob@example.org>
	// Bobbie Angus <bobbie@example.net>
	// Bobbie Angus <bobbie@example.net>
}
