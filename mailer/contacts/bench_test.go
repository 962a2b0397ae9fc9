package contacts_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer/contacts"
	"github.com/postcard-mail/postcard/mailer/store"
)

var (
	firstNames = []string{
		"Anna", "Ängla", "Åsa", "Björn", "Chloé", "Dmitrij", "Émilie", "François", "Gülşen", "Hélène",
		"Ingrid", "Jürgen", "Jean-Luc", "José", "Karolína", "Łukasz", "Mária", "María José", "Mark", "Martha",
		"Max", "Mohammed", "Nguyễn", "Noël", "Øystein", "Paweł", "Renée", "Søren", "Zoë", "Ömer",
		"John", "Jane", "Michael", "Sarah", "David", "Laura", "Thomas", "Julia", "Peter", "Sofia",
	}
	lastNames = []string{
		"Müller", "Schmidt", "Schneider", "Fischer", "Weiß", "Ångström", "Brzęczyszczykiewicz", "Nowak", "Kowalski", "Dvořák",
		"García", "Martínez", "López", "Fernández", "Dubois", "Lefèvre", "Rossi", "Bianchi", "Yılmaz", "Öztürk",
		"Smith", "Johnson", "Williams", "Brown", "Jones", "O'Brien", "Murphy", "Nguyen", "Tran", "Kim",
		"Andersson", "Johansson", "Nielsen", "Hansen", "Virtanen", "Horváth", "Novák", "Popescu", "Ivanov", "Costa",
	}
	domains = []string{"gmail.com", "icloud.com", "outlook.com", "example.org", "firma.de", "uni-wien.ac.at", "post.cz", "yahoo.fr"}
)

// benchData is 10,000 contacts and a Sent record of 5,000 recipients (a
// third of them also contacts), written to over a year, the often ones
// far more than the rest.
func benchData() ([]store.SentItem, []contacts.Contact, time.Time) {
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	person := func(i int) contacts.Contact {
		first := firstNames[r.IntN(len(firstNames))]
		last := lastNames[r.IntN(len(lastNames))]
		local := strings.NewReplacer(" ", ".", "'", "").Replace(strings.ToLower(first + "." + last))
		return contacts.Contact{Name: first + " " + last, Email: fmt.Sprintf("%s%d@%s", asciiOnly(local), i, domains[r.IntN(len(domains))])}
	}
	cards := make([]contacts.Contact, 10_000)
	for i := range cards {
		cards[i] = person(i)
	}
	recipients := make([]string, 5_000)
	for i := range recipients {
		c := person(10_000 + i)
		if i%3 == 0 {
			c = cards[r.IntN(len(cards))]
		}
		recipients[i] = c.Name + " <" + c.Email + ">"
	}
	var sent []store.SentItem
	zipf := rand.NewZipf(r, 1.2, 1, uint64(len(recipients)-1))
	for i := range 20_000 {
		it := store.SentItem{Date: now.Add(-time.Duration(r.IntN(365*24)) * time.Hour)}
		for range 1 + r.IntN(3) {
			it.To = append(it.To, recipients[zipf.Uint64()])
		}
		if i < len(recipients) {
			it.Cc = []string{recipients[i]} // every recipient at least once
		}
		sent = append(sent, it)
	}
	return sent, cards, now
}

func asciiOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// benchQueries go from the widest (two letters that start many names) to
// the narrowest.
var benchQueries = []string{"ma", "jo", "mü", "ån", "an k", "schm", "gmail", "lukasz brz", "zoë ång", "o'bri"}

func BenchmarkSuggest(b *testing.B) {
	sent, cards, now := benchData()
	ix := contacts.NewIndex(sent, cards, now)
	b.Logf("%d addresses", ix.Len())
	for _, q := range benchQueries {
		b.Run(q, func(b *testing.B) {
			n := 0
			for b.Loop() {
				n = len(ix.Suggest(q, 10))
			}
			if n == 0 {
				b.Fatalf("no suggestion for %q", q)
			}
		})
	}
	b.Run("all", func(b *testing.B) {
		i := 0
		for b.Loop() {
			ix.Suggest(benchQueries[i%len(benchQueries)], 10)
			i++
		}
	})
}

func BenchmarkNewIndex(b *testing.B) {
	sent, cards, now := benchData()
	for b.Loop() {
		contacts.NewIndex(sent, cards, now)
	}
}
