package contacts

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// unfoldable are letters that carry their mark in the letter itself, so
// NFD leaves them whole; people type them as these.
var unfoldable = map[rune]string{
	'ł': "l", 'ø': "o", 'đ': "d", 'ħ': "h", 'ı': "i", 'ŀ': "l", 'ŧ': "t",
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'þ': "th", 'ð': "d",
}

// fold returns s as it is compared: lower case, with accents and other
// combining marks dropped ("Zoë Ångström" is "zoe angstrom", "Łukasz" is
// "lukasz").
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		if u, ok := unfoldable[r]; ok {
			b.WriteString(u)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// foldAddress is the key addresses are told apart by: the same address in
// another case is the same person.
func foldAddress(addr string) string { return strings.ToLower(strings.TrimSpace(addr)) }

// nameTokens are the words of a folded name a query may start: each word,
// and for a word with punctuation inside ("jean-luc", "o'brien") its parts
// and the word without the punctuation.
func nameTokens(folded string, add func(string)) {
	for _, w := range strings.FieldsFunc(folded, isNameSeparator) {
		add(w)
		if strings.IndexFunc(w, isPunct) < 0 {
			continue
		}
		var joined strings.Builder
		for _, p := range strings.FieldsFunc(w, isPunct) {
			add(p)
			joined.WriteString(p)
		}
		if joined.Len() > 0 {
			add(joined.String())
		}
	}
}

// addressTokens are the whole folded address and its parts split at
// . _ - + @.
func addressTokens(folded string, add func(string)) {
	add(folded)
	for _, p := range strings.FieldsFunc(folded, func(r rune) bool {
		return r == '.' || r == '_' || r == '-' || r == '+' || r == '@'
	}) {
		add(p)
	}
}

func isNameSeparator(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(`,;()"<>[]/|`, r)
}

func isPunct(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// queryWords splits a folded query into the words that must each start a
// word of the name or the address.
func queryWords(folded string) []string {
	return strings.FieldsFunc(folded, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`,;()"<>[]|`, r)
	})
}
