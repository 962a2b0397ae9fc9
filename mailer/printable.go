package mailer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Printable returns s with every character that could act on a terminal
// escaped, so that text from outside (a server's reply, a file name, an
// address) cannot move the cursor, set a window's title, clear the screen
// or hide text when it is printed: the C0 controls but tab and line feed
// as \x1b, DEL, the C1 controls (U+0080 to U+009F, CSI U+009B among them)
// and the bidirectional overrides as \u007f and \u009b, and bytes that
// are not UTF-8 as \xff. Everything else, backslashes included, is kept
// as it is. What encoding/json leaves raw (DEL and up) becomes a JSON
// escape, so JSON printed through Printable stays valid, and reads back
// unchanged.
func Printable(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case escapedRune(r) && r < 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case escapedRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || escapedRune(r) {
			return true
		}
		i += n
	}
	return false
}

// escapedRune reports whether Printable escapes r.
func escapedRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029:
		// Bidirectional embeddings, overrides and isolates reorder what
		// follows them; the separators break lines in some terminals.
		return true
	}
	return false
}
