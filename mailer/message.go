package mailer

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// iCloud's limits for one message.
const (
	MaxRecipients   = 500
	MaxMessageBytes = 20 * 1000 * 1000 // "20 MB", counted after encoding
)

// Message is one email as the user wrote it. Address fields hold what the
// user typed: each element may itself be a list separated by commas or
// semicolons, with display names ("Ann <ann@x.com>; bob@y.org").
type Message struct {
	// From overrides the account's From address for this message. It may be
	// an alias or a custom-domain address of the account.
	From    string
	To      []string
	Cc      []string
	Bcc     []string
	ReplyTo string
	Subject string
	// Body is plain text.
	Body string
	// Attachments are paths of files, read when the message is sent.
	Attachments []string
}

// Prepared is a message checked and encoded, ready for one send. Make it with
// Prepare.
type Prepared struct {
	// EnvelopeFrom is the bare address given in MAIL FROM.
	EnvelopeFrom string
	// Recipients are the bare addresses given in RCPT TO: To, Cc and Bcc
	// without duplicates.
	Recipients []string
	// MessageID is the Message-ID header, without angle brackets.
	MessageID string
	// Date is the Date header.
	Date time.Time
	// Size is the exact number of bytes that will be uploaded after DATA
	// (before dot-stuffing).
	Size int64
	// Warnings are things worth asking the user about that do not stop a
	// send, such as an empty subject.
	Warnings []string

	// The message as go-mail lays it out, cut where each attachment's
	// encoded content goes: len(parts) == len(files)+1. See encode.
	parts [][]byte
	files []attachedFile
}

// Outgoing is p ready for Client.Send.
func (p *Prepared) Outgoing() *Outgoing {
	return &Outgoing{From: p.EnvelopeFrom, Recipients: p.Recipients, MessageID: p.MessageID, Size: p.Size, Content: p}
}

// WarnEmptySubject is the warning Prepare gives for a message without subject.
const WarnEmptySubject = "the subject is empty"

// Prepare checks m for sending from a, before any connection is made, and
// encodes it. Its errors are *Error of KindInvalidMessage (or KindTooLarge),
// each naming the offending field or item.
func Prepare(a Account, m Message) (*Prepared, error) {
	bad := func(format string, args ...any) error {
		return &Error{Kind: KindInvalidMessage, Stage: StageValidate, Detail: fmt.Sprintf(format, args...)}
	}
	from := strings.TrimSpace(m.From)
	if from == "" {
		from = a.FromAddress()
	}
	fromAddr, err := parseBareAddress(from)
	if err != nil {
		return nil, bad("from address %q is not a valid email address", from)
	}
	if hasCRLF(a.DisplayName) {
		return nil, bad("display name contains a line break")
	}

	p := &Prepared{EnvelopeFrom: fromAddr}
	seen := map[string]bool{}
	lists := map[string][]*mail.Address{}
	for _, f := range []struct {
		name  string
		items []string
	}{{"To", m.To}, {"Cc", m.Cc}, {"Bcc", m.Bcc}} {
		for _, item := range f.items {
			addrs, err := ParseAddressList(item)
			if err != nil {
				return nil, bad("%s: %v", f.name, err)
			}
			lists[f.name] = append(lists[f.name], addrs...)
			for _, ad := range addrs {
				key := strings.ToLower(ad.Address)
				if !seen[key] {
					seen[key] = true
					p.Recipients = append(p.Recipients, EnvelopeAddress(ad.Address))
				}
			}
		}
	}
	if len(p.Recipients) == 0 {
		return nil, bad("no recipients: add an address in To, Cc or Bcc")
	}
	if len(p.Recipients) > MaxRecipients {
		return nil, bad("%d recipients: iCloud accepts at most %d per message", len(p.Recipients), MaxRecipients)
	}
	var replyTo []*mail.Address
	if strings.TrimSpace(m.ReplyTo) != "" {
		replyTo, err = ParseAddressList(m.ReplyTo)
		if err != nil {
			return nil, bad("Reply-To: %v", err)
		}
	}
	if hasCRLF(m.Subject) {
		return nil, bad("the subject contains a line break")
	}
	if strings.TrimSpace(m.Subject) == "" {
		p.Warnings = append(p.Warnings, WarnEmptySubject)
	}
	var rawSize int64
	sizes := make([]int64, len(m.Attachments))
	for i, path := range m.Attachments {
		n, err := checkAttachment(path)
		if err != nil {
			return nil, bad("%v", err)
		}
		sizes[i] = n
		rawSize += n
	}
	// Base64 makes files a third larger; anything whose raw bytes alone are
	// over the limit need not be encoded to know it.
	if rawSize > MaxMessageBytes {
		return nil, tooLarge(rawSize, true)
	}

	p.MessageID = newMessageID(fromAddr)
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent(), gomail.WithCharset(gomail.CharsetUTF8))
	// The name recipients see is the one of the identity sent from.
	id := a.Identity(fromAddr)
	fromName := id.Name
	if !strings.EqualFold(id.Address, fromAddr) {
		fromName = a.DisplayName
	}
	if hasCRLF(fromName) {
		return nil, bad("display name contains a line break")
	}
	if err := msg.FromFormat(fromName, fromAddr); err != nil {
		return nil, bad("from address %q: %v", fromAddr, err)
	}
	if len(lists["To"]) > 0 {
		msg.ToMailAddress(lists["To"]...)
	}
	if len(lists["Cc"]) > 0 {
		msg.CcMailAddress(lists["Cc"]...)
	}
	// Bcc recipients are only in the envelope, never in a header.
	if len(replyTo) > 0 {
		msg.ReplyToMailAddress(replyTo...)
	}
	if folded, ok := foldedSubject(m.Subject); ok {
		msg.SetGenHeaderPreformatted(gomail.HeaderSubject, folded)
	} else {
		msg.Subject(m.Subject)
	}
	p.Date = time.Now().Truncate(time.Second)
	msg.SetDateWithValue(p.Date)
	msg.SetMessageIDWithValue(p.MessageID)
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	if err := p.encode(msg, m.Attachments, sizes); err != nil {
		return nil, bad("encoding the message: %v", err)
	}
	if field, n := longHeaderLine(p.parts[0]); n > 0 {
		return nil, bad("the %s header would have a line of %d characters, more than the %d mail allows: shorten the address or name in it", field, n, maxHeaderLine)
	}
	if p.Size > MaxMessageBytes {
		return nil, tooLarge(p.Size, false)
	}
	return p, nil
}

func tooLarge(n int64, raw bool) error {
	what := "encoded"
	if raw {
		what = "before encoding"
	}
	return &Error{Kind: KindTooLarge, Stage: StageValidate,
		Detail: fmt.Sprintf("the message is %s %s (%d bytes); iCloud's limit is 20 MB", FormatSize(n), what, n)}
}

// FormatSize formats n bytes the way the 20 MB limit is stated (decimal MB).
func FormatSize(n int64) string {
	switch {
	case n >= 1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1000:
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}

// EstimateEncodedSize is the size a set of attachments of total raw size n
// takes in a message: base64 with line breaks. It is for showing a running
// total; Prepare measures the real message.
func EstimateEncodedSize(n int64) int64 { return base64Size(n) }

// checkAttachment returns the size of the file at path, or an error naming
// it when it is missing, a folder or unreadable.
func checkAttachment(path string) (int64, error) {
	if strings.TrimSpace(path) == "" {
		return 0, errors.New("attachment path is empty")
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return 0, fmt.Errorf("attachment %q does not exist", path)
	case errors.Is(err, os.ErrPermission):
		return 0, fmt.Errorf("attachment %q cannot be read: permission denied", path)
	case err != nil:
		return 0, fmt.Errorf("attachment %q cannot be read: %v", path, err)
	case fi.IsDir():
		return 0, fmt.Errorf("attachment %q is a folder, not a file", path)
	case !fi.Mode().IsRegular():
		return 0, fmt.Errorf("attachment %q is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return 0, fmt.Errorf("attachment %q cannot be read: permission denied", path)
		}
		return 0, fmt.Errorf("attachment %q cannot be read: %v", path, err)
	}
	defer f.Close()
	var one [1]byte
	if _, err := f.Read(one[:]); err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("attachment %q cannot be read: %v", path, err)
	}
	return fi.Size(), nil
}

// ParseAddressList parses what a user typed into an address field: addresses
// separated by commas or semicolons, each bare or with a display name
// ("Ann <ann@x.com>; bob@y.org"). Empty items are ignored. Its error names
// the item that is not an address.
func ParseAddressList(s string) ([]*mail.Address, error) {
	if hasCRLF(s) {
		return nil, errors.New("contains a line break")
	}
	var out []*mail.Address
	for _, item := range splitAddressList(s) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		ad, err := mail.ParseAddress(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not a valid email address", item)
		}
		at := strings.LastIndexByte(ad.Address, '@')
		if at < 1 || !strings.Contains(ad.Address[at+1:], ".") || strings.HasSuffix(ad.Address, ".") {
			return nil, fmt.Errorf("%q is not a valid email address (the domain looks incomplete)", item)
		}
		// net/mail writes a name of non-ASCII letters as a Q-encoded word
		// even when it holds a backslash, which no parser reads back (RFC
		// 2047 section 5 allows no backslash there): refuse it rather
		// than send a To or Cc that recipients cannot read.
		if _, err := mail.ParseAddress(ad.String()); err != nil {
			why := ""
			if strings.ContainsRune(ad.Name, '\\') {
				why = ": remove the backslash from the name"
			}
			return nil, fmt.Errorf("the name in %q cannot be written in a mail header%s", item, why)
		}
		out = append(out, ad)
	}
	return out, nil
}

// splitAddressList splits on commas and semicolons outside quotes, angle
// brackets and comments, so `"Doe, Jane" <j@x.org>` stays whole.
func splitAddressList(s string) []string {
	var (
		out            []string
		cur            strings.Builder
		quoted, escape bool
		angle, paren   int
	)
	for _, r := range s {
		switch {
		case escape:
			escape = false
		case r == '\\' && (quoted || paren > 0):
			escape = true
		case r == '"' && paren == 0:
			quoted = !quoted
		case quoted:
		case r == '(':
			paren++
		case r == ')' && paren > 0:
			paren--
		case paren > 0:
		case r == '<':
			angle++
		case r == '>' && angle > 0:
			angle--
		case (r == ',' || r == ';') && angle == 0:
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	return append(out, cur.String())
}

// newMessageID returns a unique id in the sender's domain, so the message
// does not reveal the computer's host name.
func newMessageID(from string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	domain := from[strings.LastIndexByte(from, '@')+1:]
	return fmt.Sprintf("%d.%s@%s", time.Now().UnixNano(), hex.EncodeToString(b[:]), domain)
}

// EnvelopeAddress is addr as MAIL FROM and RCPT TO need it (RFC 5321
// section 4.1.2), and as it is shown: net/mail gives `"john doe"@example.com`
// back as `john doe@example.com`, so a local part that is not a dot-atom is
// quoted again, with its quotes and backslashes escaped. An address already
// quoted so is returned as it is.
func EnvelopeAddress(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	local, domain := addr[:at], addr[at:]
	if isDotAtom(local) || isQuotedString(local) {
		return addr
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range local {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String() + domain
}

// isQuotedString reports whether s is one RFC 5321 Quoted-string: in
// quotes, with every quote and backslash inside escaped.
func isQuotedString(s string) bool {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		switch s[i] {
		case '\\':
			i++
			if i == len(s)-1 {
				return false // the closing quote escaped
			}
		case '"':
			return false
		}
	}
	return true
}

// isDotAtom reports whether s is atoms joined by single dots (RFC 5321
// Dot-string; RFC 6531 allows any non-ASCII character in an atom).
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r >= 0x80:
		case strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r):
		default:
			return false
		}
	}
	return true
}

// maxHeaderLine is the longest line RFC 5322 (section 2.1.1) allows in a
// header, without its CRLF.
const maxHeaderLine = 998

// foldedSubject returns the Subject header's value as RFC 2047 encoded-words
// on lines of at most 78 characters, and true, for a subject with a word
// too long to fold at its spaces: go-mail folds only there, and leaves
// ASCII unencoded, so a long URL or 100,000 characters without a space
// went out as one line. A subject go-mail can fold gets false.
func foldedSubject(s string) (string, bool) {
	long := false
	for _, w := range strings.Fields(mime.QEncoding.Encode("UTF-8", s)) {
		if len(w) > 76-len("Subject: ") {
			long = true
			break
		}
	}
	if !long {
		return "", false
	}
	// 39 bytes are 52 base64 characters, 64 with "=?UTF-8?B?" and "?=":
	// 73 with "Subject: " on the first line. Whitespace between
	// encoded-words is dropped when they are decoded (RFC 2047 section
	// 6.2), so the pieces join up exactly.
	const piece = 39
	var words []string
	for len(s) > 0 {
		n := min(piece, len(s))
		// Never split a character: cut at the start of the one at n if
		// it starts at most UTFMax-1 bytes back. Bytes that start no
		// character (invalid UTF-8) are cut where they are.
		for k := n; n < len(s) && k > 0 && k > n-utf8.UTFMax; k-- {
			if utf8.RuneStart(s[k]) {
				n = k
				break
			}
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n "), true
}

// longHeaderLine returns the field and length of the first line of header
// longer than maxHeaderLine, or "" and 0: what go-mail cannot fold, such as
// an address or a display name without spaces longer than a line.
func longHeaderLine(header []byte) (field string, n int) {
	header, _, _ = bytes.Cut(header, []byte("\r\n\r\n"))
	for _, line := range bytes.Split(header, []byte("\r\n")) {
		if len(line) > 0 && line[0] != ' ' && line[0] != '\t' {
			name, _, _ := bytes.Cut(line, []byte(":"))
			field = string(name)
		}
		if len(line) > maxHeaderLine {
			return field, len(line)
		}
	}
	return "", 0
}
