package carddavtest

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"strings"
)

// Card is one vCard of the address book.
type Card struct {
	// UID names the card's file (UID.vcf); it should match the card's UID
	// property.
	UID string
	// VCard is the card's text, with CRLF line ends.
	VCard string
}

// DefaultCards returns cards as iCloud serves them (vCard 3.0, grouped
// properties with Apple's labels), chosen for what a contacts client must
// get right:
//
//   - "Zoë Ångström": three EMAILs, two of them iCloud-style grouped
//     (item1.EMAIL with item1.X-ABLabel), one plain with TYPE=HOME
//   - "Jürgen Müller": one work EMAIL, a phone and an organisation
//   - "Łukasz Brzęczyszczykiewicz": one EMAIL and a PHOTO (a PNG of a few
//     KB, base64, folded over many lines)
//   - an empty FN, the name only in N (Doe;Jane): one EMAIL. (Radicale,
//     through vobject, refuses to serve a card without any FN.)
//   - "ACME Support": a company card (X-ABShowAs:COMPANY) with one EMAIL
//   - "Pat Nomail": a phone and no EMAIL, to be ignored
//   - "Family": an iCloud group card (X-ADDRESSBOOKSERVER-KIND:group) with
//     no EMAIL, to be ignored
//
// Seven cards; seven EMAIL addresses on five of them.
func DefaultCards() []Card {
	return []Card{
		{UID: "zoe-angstrom", VCard: vcard(
			"UID:zoe-angstrom",
			"FN:Zoë Ångström",
			"N:Ångström;Zoë;;;",
			"item1.EMAIL;type=INTERNET;type=pref:zoe@example.org",
			"item1.X-ABLabel:_$!<Work>!$_",
			"EMAIL;type=INTERNET;type=HOME:zoe.home@example.net",
			"item2.EMAIL;type=INTERNET:zoe.angstrom@icloud.example",
			"item2.X-ABLabel:Old address",
		)},
		{UID: "juergen-mueller", VCard: vcard(
			"UID:juergen-mueller",
			"FN:Jürgen Müller",
			"N:Müller;Jürgen;;;",
			"ORG:Müller & Söhne GmbH;",
			"EMAIL;type=INTERNET;type=WORK;type=pref:juergen.mueller@example.de",
			"TEL;type=CELL;type=VOICE;type=pref:+49 170 1234567",
		)},
		{UID: "lukasz", VCard: vcard(
			"UID:lukasz",
			"FN:Łukasz Brzęczyszczykiewicz",
			"N:Brzęczyszczykiewicz;Łukasz;;;",
			"EMAIL;type=INTERNET:lukasz@example.pl",
			"PHOTO;ENCODING=b;TYPE=PNG:"+base64.StdEncoding.EncodeToString(photo()),
		)},
		{UID: "jane-doe-no-fn", VCard: vcard(
			"UID:jane-doe-no-fn",
			"FN:",
			"N:Doe;Jane;;;",
			"EMAIL;type=INTERNET:jane.doe@example.com",
		)},
		{UID: "acme-support", VCard: vcard(
			"UID:acme-support",
			"FN:ACME Support",
			"N:;;;;",
			"ORG:ACME Support;",
			"X-ABShowAs:COMPANY",
			"item1.EMAIL;type=INTERNET:support@acme.example",
			"item1.X-ABLabel:_$!<Other>!$_",
		)},
		{UID: "pat-nomail", VCard: vcard(
			"UID:pat-nomail",
			"FN:Pat Nomail",
			"N:Nomail;Pat;;;",
			"TEL;type=HOME;type=VOICE:+1 555 0100",
		)},
		{UID: "group-family", VCard: vcard(
			"UID:group-family",
			"FN:Family",
			"N:Family;;;;",
			"X-ADDRESSBOOKSERVER-KIND:group",
			"X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:zoe-angstrom",
		)},
	}
}

// vcard wraps properties in a vCard 3.0, folding lines longer than 75
// octets as RFC 2426 says (CRLF and a space).
func vcard(props ...string) string {
	var b strings.Builder
	for _, p := range append(append([]string{"BEGIN:VCARD", "VERSION:3.0", "PRODID:-//Apple Inc.//iCloud Web Address Book 2522B10//EN"}, props...), "END:VCARD") {
		for limit := 75; len(p) > limit; limit = 74 { // a continuation starts with its space
			cut := limit
			for cut > 0 && p[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
				cut--
			}
			b.WriteString(p[:cut] + "\r\n ")
			p = p[cut:]
		}
		b.WriteString(p + "\r\n")
	}
	return b.String()
}

// photo is a 48×48 PNG of a few KB, the same every time.
func photo() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 48, 48))
	seed := uint32(12345)
	for y := range 48 {
		for x := range 48 {
			seed = seed*1664525 + 1013904223 // noise keeps the PNG from compressing to nothing
			img.Set(x, y, color.NRGBA{uint8(x * 5), uint8(y * 5), uint8(seed >> 24), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // cannot fail for an in-memory image
	}
	return buf.Bytes()
}
