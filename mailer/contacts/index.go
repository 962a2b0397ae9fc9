package contacts

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postcard-mail/postcard/mailer/store"
)

// Suggestion is one address offered for a recipient field.
type Suggestion struct {
	// Name is the contact's name (the card's, else the one last written
	// to in Sent); it may be empty.
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
	// Text is what the field takes: "Name <address>", the name quoted
	// when it needs to be (`"Doe, Jane" <jane@example.org>`), or the bare
	// address when there is no name.
	Text string `json:"text"`
	// Sent is how many messages of the Sent record went to the address,
	// the last at LastSent.
	Sent     int       `json:"sent,omitempty"`
	LastSent time.Time `json:"last_sent,omitzero"`
	// Contact is whether the address is in the synced or imported
	// contacts.
	Contact bool `json:"contact,omitempty"`
}

// MinQuery is how many characters a query needs before anything is
// suggested: one letter matches too much to be of use.
const MinQuery = 2

// halfLife is how fast a message in Sent counts less as it ages: one sent
// a month ago counts half as much as one sent now.
const halfLife = 30 * 24 * time.Hour

// Index finds suggestions among everyone written to (the Sent record)
// and the contacts. It is built once by NewIndex, never changes, and is
// safe for concurrent use; build a new one when Sent or the contacts
// change.
type Index struct {
	entries []entry // in the order suggestions are offered
	tokens  []token // sorted by text
}

type entry struct {
	s      Suggestion
	tokens []string // folded words of the names and the address
}

// token is a folded word and the entry it starts a word of.
type token struct {
	text  string
	entry int32
}

// NewIndex builds an index of the recipients of sent (To, Cc and Bcc, as
// store.SentItem holds them: "Bob <bob@example.org>") and of contacts
// (synced and imported alike). An address is offered once, however often
// it appears, and matched by every name it goes by. Addresses written to
// come first, ranked by how often and how recently (relative to now) they
// were written to; then the other contacts, by name.
func NewIndex(sent []store.SentItem, contacts []Contact, now time.Time) *Index {
	type acc struct {
		s        Suggestion
		score    float64
		sentName string    // the name last written to
		nameAt   time.Time // when
		names    []string  // every name it goes by, once each
		folded   string    // fold(s.Name), the sort key
	}
	byAddr := map[string]*acc{}
	get := func(addr string) *acc {
		key := foldAddress(addr)
		a := byAddr[key]
		if a == nil {
			a = &acc{s: Suggestion{Address: addr}}
			byAddr[key] = a
		}
		return a
	}
	addName := func(a *acc, name string) {
		if name != "" && !slices.Contains(a.names, name) {
			a.names = append(a.names, name)
		}
	}
	// The same recipients come back in message after message.
	type parsed struct {
		name, addr string
		ok         bool
	}
	recipients := map[string]parsed{}
	var seen []*acc // an address twice in one message counts once
	for _, it := range sent {
		w := weight(now.Sub(it.Date))
		seen = seen[:0]
		for _, lists := range [][]string{it.To, it.Cc, it.Bcc} {
			for _, r := range lists {
				p, ok := recipients[r]
				if !ok {
					p.name, p.addr, p.ok = splitRecipient(r)
					recipients[r] = p
				}
				if !p.ok {
					continue
				}
				a := get(p.addr)
				if slices.Contains(seen, a) {
					continue
				}
				seen = append(seen, a)
				a.s.Sent++
				a.score += w
				if it.Date.After(a.s.LastSent) || a.s.LastSent.IsZero() {
					a.s.LastSent = it.Date
				}
				if p.name != "" {
					addName(a, p.name)
					if a.sentName == "" || !it.Date.Before(a.nameAt) {
						a.sentName, a.nameAt = p.name, it.Date
					}
				}
			}
		}
	}
	for _, c := range contacts {
		addr, ok := cleanEmail(c.Email)
		if !ok {
			continue
		}
		a := get(addr)
		a.s.Contact = true
		if name := clean(c.Name); name != "" {
			addName(a, name)
			if a.s.Name == "" {
				a.s.Name = name // the first card's name: the user's own
			}
		}
	}

	folded := map[string]string{}
	foldName := func(n string) string {
		f, ok := folded[n]
		if !ok {
			f = fold(n)
			folded[n] = f
		}
		return f
	}
	accs := make([]*acc, 0, len(byAddr))
	for _, a := range byAddr {
		if a.s.Name == "" {
			a.s.Name = a.sentName
		}
		a.folded = foldName(a.s.Name)
		accs = append(accs, a)
	}
	slices.SortFunc(accs, func(x, y *acc) int {
		if (x.s.Sent > 0) != (y.s.Sent > 0) {
			if x.s.Sent > 0 {
				return -1
			}
			return 1
		}
		if x.s.Sent > 0 {
			if c := cmp.Compare(y.score, x.score); c != 0 {
				return c
			}
			if c := y.s.LastSent.Compare(x.s.LastSent); c != 0 {
				return c
			}
		}
		// Nameless ones after the named, by address.
		if (x.folded == "") != (y.folded == "") {
			if x.folded == "" {
				return 1
			}
			return -1
		}
		if c := strings.Compare(x.folded, y.folded); c != 0 {
			return c
		}
		return strings.Compare(foldAddress(x.s.Address), foldAddress(y.s.Address))
	})

	ix := &Index{entries: make([]entry, len(accs))}
	for i, a := range accs {
		a.s.Text = Format(a.s.Name, a.s.Address)
		e := entry{s: a.s}
		add := func(t string) {
			if t != "" && !slices.Contains(e.tokens, t) {
				e.tokens = append(e.tokens, t)
				ix.tokens = append(ix.tokens, token{t, int32(i)})
			}
		}
		addressTokens(foldAddress(a.s.Address), add)
		for _, n := range a.names {
			nameTokens(foldName(n), add)
		}
		ix.entries[i] = e
	}
	slices.SortFunc(ix.tokens, func(x, y token) int {
		if c := strings.Compare(x.text, y.text); c != 0 {
			return c
		}
		return cmp.Compare(x.entry, y.entry)
	})
	return ix
}

// weight is what one message sent age ago counts.
func weight(age time.Duration) float64 {
	if age < 0 {
		age = 0
	}
	return math.Exp2(-float64(age) / float64(halfLife))
}

// Len is how many addresses the index holds.
func (ix *Index) Len() int { return len(ix.entries) }

// Suggest returns at most limit suggestions (all of them when limit is
// zero or less) for what the user has typed: every word of query must
// start a word of the name or of the address (split at . _ - + @ too),
// ignoring case and accents. A query of fewer than MinQuery characters
// gives none. Addresses written to come first, by how often and how
// recently; then contacts, by name.
func (ix *Index) Suggest(query string, limit int) []Suggestion {
	words := queryWords(fold(query))
	n := 0
	for _, w := range words {
		n += utf8.RuneCountInString(w)
	}
	if n < MinQuery || len(ix.entries) == 0 {
		return nil
	}
	// The word with the fewest tokens starting with it picks the
	// candidates; the others are checked on each.
	best, lo, hi := 0, 0, len(ix.tokens)+1
	for i, w := range words {
		l, h := ix.prefixRange(w)
		if h-l < hi-lo {
			best, lo, hi = i, l, h
		}
	}
	if lo == hi {
		return nil
	}
	set := make([]uint64, (len(ix.entries)+63)/64)
	for _, t := range ix.tokens[lo:hi] {
		set[t.entry/64] |= 1 << (t.entry % 64)
	}
	var out []Suggestion
	for wi, word := range set {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &^= 1 << b
			e := &ix.entries[wi*64+b]
			if matchesAll(e.tokens, words, best) {
				out = append(out, e.s)
				if limit > 0 && len(out) == limit {
					return out
				}
			}
		}
	}
	return out
}

// prefixRange is the range of ix.tokens that start with p.
func (ix *Index) prefixRange(p string) (lo, hi int) {
	lo, _ = slices.BinarySearchFunc(ix.tokens, p, func(t token, p string) int { return strings.Compare(t.text, p) })
	hi = lo + sort.Search(len(ix.tokens)-lo, func(i int) bool { return !strings.HasPrefix(ix.tokens[lo+i].text, p) })
	return lo, hi
}

// matchesAll reports whether every word but words[skip] starts one of
// tokens.
func matchesAll(tokens, words []string, skip int) bool {
	for i, w := range words {
		if i == skip {
			continue
		}
		found := false
		for _, t := range tokens {
			if strings.HasPrefix(t, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// splitRecipient splits "Name <addr>" or "addr", as the store shows a
// recipient, and checks the address.
func splitRecipient(s string) (name, addr string, ok bool) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, ">") {
		if i := strings.LastIndexByte(s, '<'); i >= 0 {
			name = strings.TrimSpace(s[:i])
			if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
				name = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(name[1 : len(name)-1])
			}
			s = s[i+1 : len(s)-1]
		}
	}
	addr, ok = cleanEmail(s)
	if ok && (foldAddress(name) == foldAddress(addr)) {
		name = "" // "bob@example.org <bob@example.org>" names nobody
	}
	return truncateRunes(clean(name), maxNameRunes), addr, ok
}

// Format is a recipient as a field takes it: "Name <address>", with the
// name in quotes when it holds a character that would end it (`"Doe,
// Jane" <jane@example.org>`), or the bare address when name is empty.
// Unlike net/mail.Address.String, it never RFC 2047-encodes a name, as it
// is for display and typing, not for a header.
func Format(name, address string) string {
	name = clean(name)
	if name == "" {
		return address
	}
	if strings.ContainsAny(name, `()<>[]:;@\,."`) {
		name = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	}
	return name + " <" + address + ">"
}
