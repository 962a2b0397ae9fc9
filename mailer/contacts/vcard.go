package contacts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
)

// Contact is one address of a card, with the card's name: a card with
// three EMAILs gives three Contacts.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// Limits on what one card may hold. A property longer than maxPropBytes is
// dropped (a name or address that long is not one), and only the first
// maxEmailsPerCard addresses of a card are kept.
const (
	maxPropBytes     = 16 << 10
	maxNameRunes     = 200
	maxEmailBytes    = 254 // RFC 5321's limit on a path
	maxEmailsPerCard = 100
)

// wanted are the properties read from a card; every other one (PHOTO,
// LOGO, SOUND, KEY, notes...) is skipped as it is read, never held.
var wanted = map[string]bool{"BEGIN": true, "END": true, "VERSION": true, "FN": true, "N": true, "EMAIL": true}

// readCards reads the vCards in r and calls add with the contacts of each
// card that has an address (cards without one, such as iCloud's group
// cards, give none). r may hold any number of cards; it is read line by
// line, and a line is held only if it is a wanted property no longer than
// maxPropBytes, so memory stays bounded whatever the input. It returns how
// many cards it read.
func readCards(r io.Reader, add func([]Contact) error) (cards int, err error) {
	lr := lineReader{br: bufio.NewReaderSize(r, 4<<10)}
	var (
		card   bytes.Buffer // the wanted lines of the current card
		inCard bool
		line   []byte // the logical line being read
		have   bool   // line holds one
		keep   bool   // line is a wanted property
		long   bool   // line outgrew maxPropBytes: dropped
		qp     bool   // line's value is quoted-printable (vCard 2.1)
	)
	flush := func() error {
		if !have || !keep || long {
			return nil
		}
		have = false
		name := propName(line)
		isCard := strings.EqualFold(strings.TrimSpace(propValue(line)), "VCARD")
		if name == "BEGIN" && isCard {
			card.Reset()
			inCard = true
		}
		if !inCard {
			return nil
		}
		card.Write(normalizeParams(line))
		card.WriteString("\r\n")
		if name != "END" || !isCard {
			return nil
		}
		inCard = false
		cards++
		if cs := parseCard(card.Bytes()); len(cs) > 0 {
			return add(cs)
		}
		return nil
	}
	for {
		var cont, folded bool
		text, head, tooLong, rerr := lr.next(func(head []byte) bool {
			folded = len(head) > 0 && (head[0] == ' ' || head[0] == '\t')
			// A quoted-printable soft line break ("=" at the end) goes on
			// in the next line, which does not start with a space.
			cont = have && (folded || qp && bytes.HasSuffix(line, []byte("=")))
			if cont {
				return keep && !long
			}
			return wanted[propName(head)]
		})
		if rerr != nil && rerr != io.EOF {
			return cards, rerr
		}
		if head == nil && rerr == io.EOF {
			return cards, flush()
		}
		if cont {
			switch {
			case !keep || long:
			case tooLong:
				long = true
			case folded:
				line = append(line, text[1:]...)
			default:
				line = append(bytes.TrimSuffix(line, []byte("=")), text...)
			}
		} else {
			if err := flush(); err != nil {
				return cards, err
			}
			have = true
			keep = wanted[propName(head)]
			long = tooLong
			line = append(line[:0], text...)
			qp = keep && bytes.Contains(bytes.ToUpper(propParams(line)), []byte("QUOTED-PRINTABLE"))
		}
		if len(line) > maxPropBytes {
			long = true
		}
		if long {
			line = line[:0]
		}
		if rerr == io.EOF {
			return cards, flush()
		}
	}
}

// lineReader reads a file line by line without ever holding a line it was
// not asked to keep.
type lineReader struct{ br *bufio.Reader }

// next reads one line. keep is asked, from the line's first bytes, whether
// to keep it; if not, the line is read to its end and text is empty. A
// kept line longer than maxPropBytes is not kept either, and tooLong says
// so. head is nil only when nothing was left to read.
func (lr lineReader) next(keep func(head []byte) bool) (text, head []byte, tooLong bool, err error) {
	chunk, err := lr.br.ReadSlice('\n')
	if len(chunk) == 0 && err != nil && err != bufio.ErrBufferFull {
		return nil, nil, false, err
	}
	head = append([]byte(nil), chunk[:min(len(chunk), 80)]...)
	kept := keep(head)
	for {
		if kept && !tooLong {
			if len(text)+len(chunk) > maxPropBytes+2 {
				tooLong, text = true, nil
			} else {
				text = append(text, chunk...)
			}
		}
		if err != bufio.ErrBufferFull {
			break
		}
		chunk, err = lr.br.ReadSlice('\n')
	}
	if err != nil && err != io.EOF {
		return nil, head, false, err
	}
	text = bytes.TrimRight(text, "\r\n")
	if text == nil {
		text = []byte{}
	}
	return text, head, tooLong, err
}

// normalizeParams names the bare parameters of vCard 2.1 ("EMAIL;HOME;
// INTERNET:", "FN;QUOTED-PRINTABLE:"), which go-vcard takes for the start
// of a value: as TYPE=HOME or ENCODING=QUOTED-PRINTABLE.
func normalizeParams(line []byte) []byte {
	name := bytes.IndexAny(line, ";:")
	if name < 0 || line[name] == ':' {
		return line
	}
	out := append([]byte(nil), line[:name]...)
	rest := line[name:]
	for len(rest) > 0 && rest[0] == ';' {
		rest = rest[1:]
		end, quoted, hasEq := 0, false, false
	scan:
		for ; end < len(rest); end++ {
			switch c := rest[end]; {
			case c == '"':
				quoted = !quoted
			case quoted:
			case c == '=':
				hasEq = true
			case c == ';' || c == ':':
				break scan
			}
		}
		seg := rest[:end]
		rest = rest[end:]
		out = append(out, ';')
		if !hasEq && len(seg) > 0 {
			switch strings.ToUpper(string(seg)) {
			case "QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT", "B":
				out = append(out, "ENCODING="...)
			default:
				out = append(out, "TYPE="...)
			}
		}
		out = append(out, seg...)
	}
	return append(out, rest...)
}

// propName is the upper-case name of the property a line holds, without
// its group ("item1.EMAIL;type=INTERNET:..." is EMAIL).
func propName(line []byte) string {
	end := bytes.IndexAny(line, ";:")
	if end < 0 {
		end = len(line)
	}
	name := line[:end]
	if i := bytes.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToUpper(strings.TrimSpace(string(name)))
}

// propParams is the part of a line between its name and its value.
func propParams(line []byte) []byte {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return nil
	}
	semi := bytes.IndexByte(line[:colon], ';')
	if semi < 0 {
		return nil
	}
	return line[semi:colon]
}

func propValue(line []byte) string {
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		return string(line[i+1:])
	}
	return ""
}

// parseCard turns the wanted lines of one card into its contacts: each
// EMAIL with the card's name (FN, else N).
func parseCard(text []byte) []Contact {
	card, err := vcard.NewDecoder(bytes.NewReader(text)).Decode()
	if err != nil && card == nil {
		return nil
	}
	name := ""
	for _, f := range card[vcard.FieldFormattedName] {
		if name = clean(fieldText(f)); name != "" {
			break
		}
	}
	if name == "" {
		for _, f := range card[vcard.FieldName] {
			if name = nameFromN(fieldText(f)); name != "" {
				break
			}
		}
	}
	name = truncateRunes(name, maxNameRunes)
	var out []Contact
	seen := map[string]bool{}
	for _, f := range card[vcard.FieldEmail] {
		addr, ok := cleanEmail(fieldText(f))
		if !ok || seen[foldAddress(addr)] {
			continue
		}
		seen[foldAddress(addr)] = true
		out = append(out, Contact{Name: name, Email: addr})
		if len(out) == maxEmailsPerCard {
			break
		}
	}
	return out
}

// fieldText is a field's value decoded: quoted-printable (vCard 2.1) and
// the escapes go-vcard leaves in ("\;", "\N"), as valid UTF-8.
func fieldText(f *vcard.Field) string {
	v := f.Value
	if strings.EqualFold(f.Params.Get("ENCODING"), "QUOTED-PRINTABLE") {
		if b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(v))); err == nil {
			v = string(b)
		}
	}
	v = strings.NewReplacer(`\;`, ";", `\N`, " ", `\:`, ":").Replace(v)
	return strings.ToValidUTF8(v, "\uFFFD")
}

// nameFromN makes a name from N (Family;Given;Additional;Prefix;Suffix):
// "Prefix Given Additional Family Suffix".
func nameFromN(v string) string {
	parts := strings.Split(v, ";")
	get := func(i int) string {
		if i < len(parts) {
			return strings.ReplaceAll(parts[i], ",", " ")
		}
		return ""
	}
	return clean(strings.Join([]string{get(3), get(1), get(2), get(0), get(4)}, " "))
}

// clean collapses white space and drops control characters: a name is
// one line.
func clean(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == ' ' || r == '\u00a0':
			space = b.Len() > 0
			continue
		case r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return strings.TrimSpace(s[:j])
		}
		i++
	}
	return s
}

// cleanEmail accepts one plain address ("mailto:" and a display name are
// dropped), or says it is not one.
func cleanEmail(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) > 7 && strings.EqualFold(v[:7], "mailto:") {
		v = v[7:]
	}
	if v == "" || len(v) > 2*maxEmailBytes || strings.ContainsAny(v, "\r\n") {
		return "", false
	}
	a, err := mail.ParseAddress(v)
	if err != nil || len(a.Address) > maxEmailBytes || !strings.Contains(a.Address, "@") {
		return "", false
	}
	return a.Address, true
}

// ErrNoCards is returned by ReadVCF for input that holds no card with an
// address.
var ErrNoCards = errors.New("contacts: no card with an email address found")

// ErrVCFTooLarge is returned, wrapped, for a .vcf file larger than
// MaxVCFSize or holding more addresses than allowed.
var ErrVCFTooLarge = errors.New("contacts: the file is too large")

// MaxVCFSize bounds what ReadVCF reads: larger than any address book of
// 50,000 cards without photos.
const MaxVCFSize = 256 << 20

// ReadVCF reads the cards of a .vcf file (vCard 2.1, 3.0 or 4.0; photos
// and other properties are skipped as they are read) and returns every
// address with its card's name, at most maxContacts of them (zero means
// DefaultMaxContacts). It reads at most MaxVCFSize bytes and fails beyond.
func ReadVCF(r io.Reader, maxContacts int) (contacts []Contact, cards int, err error) {
	return readVCF(r, maxContacts, MaxVCFSize)
}

func readVCF(r io.Reader, maxContacts int, maxBytes int64) (contacts []Contact, cards int, err error) {
	if maxContacts <= 0 {
		maxContacts = DefaultMaxContacts
	}
	lr := &io.LimitedReader{R: r, N: maxBytes + 1}
	cards, err = readCards(lr, func(cs []Contact) error {
		if len(contacts)+len(cs) > maxContacts {
			return fmt.Errorf("%w: it holds more than %d addresses", ErrVCFTooLarge, maxContacts)
		}
		contacts = append(contacts, cs...)
		return nil
	})
	if err != nil {
		return nil, cards, err
	}
	if lr.N <= 0 {
		return nil, cards, fmt.Errorf("%w: it is larger than %d MB", ErrVCFTooLarge, maxBytes>>20)
	}
	if len(contacts) == 0 {
		return nil, cards, ErrNoCards
	}
	return contacts, cards, nil
}
