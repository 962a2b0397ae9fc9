package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/contacts"
	"github.com/postcard-mail/postcard/mailer/store"
)

const contactsSynopsis = `postcard contacts [--json] [--limit N] QUERY  search the contacts and everyone written to
  postcard contacts [--json]                     say what is saved
  postcard contacts sync [--json]                read the contacts from the server now
  postcard contacts import [--json] FILE.vcf     add the contacts of a .vcf file`

const contactsHelp = `
A query matches the start of any word of a name or an address (split at
. _ - + @ too), ignoring case and accents, from its second character on;
with several words, each must match. Everyone written to (the Sent record)
comes first, the most often and most lately written to first; then the
contacts, by name. "postcard contacts -- sync" searches for "sync".

The contacts are read from the account's CardDAV server: iCloud Contacts
(https://contacts.icloud.com) when sending through iCloud, or the server
given with postcard login --contacts-url; postcard login --no-contacts turns
reading them off. They are saved in the data folder, so searching works
offline.

Exit codes of sync are those of postcard check.
`

// defaultContactsLimit is how many suggestions a search prints unless told.
const defaultContactsLimit = 20

// contactsFlags are login's options for the contacts.
type contactsFlags struct {
	url     *string
	off, on bool
}

func (f *contactsFlags) register(fs *flag.FlagSet) {
	fs.Func("contacts-url", "CardDAV server `URL` the contacts are read from, for suggestions (iCloud: https://contacts.icloud.com, the default when sending through iCloud; \"\" for that default)", func(v string) error {
		v = strings.TrimSpace(v)
		f.url = &v
		return nil
	})
	fs.BoolVar(&f.off, "no-contacts", false, "do not read the contacts for suggestions")
	fs.BoolVar(&f.on, "contacts", false, "read the contacts for suggestions again (the default)")
}

// apply returns a with the contacts options given. Naming a server turns
// reading the contacts on, unless --no-contacts says otherwise.
func (f contactsFlags) apply(a mailer.Account) mailer.Account {
	if f.url != nil {
		a.ContactsURL = *f.url
		a.NoContacts = false
	}
	switch {
	case f.off:
		a.NoContacts = true
	case f.on:
		a.NoContacts = false
	}
	return a
}

// contactsOptions are the command line of postcard contacts.
type contactsOptions struct {
	json  bool
	limit int
	args  []string
}

// parseContacts reads flags wherever they are, so that "postcard contacts
// jane --json" works; "--" ends them.
func parseContacts(args []string) (contactsOptions, error) {
	o := contactsOptions{limit: defaultContactsLimit}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case a == "--":
			o.args = append(o.args, args[i+1:]...)
			return o, nil
		case !strings.HasPrefix(a, "-") || a == "-":
			o.args = append(o.args, a)
		case name == "h" || name == "help":
			return o, &helpRequest{text: "Usage:\n  " + contactsSynopsis + "\n\nOptions (-x and --x are the same):\n" +
				"  --json     print the result as one JSON object\n" +
				"  --limit N  print at most N suggestions (default " + strconv.Itoa(defaultContactsLimit) + "; 0 for all)\n" + contactsHelp}
		case name == "json":
			b, err := true, error(nil)
			if hasVal {
				b, err = strconv.ParseBool(val)
			}
			if err != nil {
				return o, usageErrorf("contacts", "contacts: --json=%s is not true or false", val)
			}
			o.json = b
		case name == "limit":
			if !hasVal {
				if i+1 == len(args) {
					return o, usageErrorf("contacts", "contacts: --limit needs a number")
				}
				i++
				val = args[i]
			}
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return o, usageErrorf("contacts", "contacts: --limit %q is not a number of 0 or more", val)
			}
			o.limit = n
		default:
			return o, usageErrorf("contacts", "contacts: unknown flag %s", a)
		}
	}
	return o, nil
}

func (c *command) contactsCmd(ctx context.Context, args []string) int {
	o, err := parseContacts(args)
	out := newOutput(c, o.json || hasJSONFlag(args))
	if err != nil {
		return c.parseFailed(out, err)
	}
	dir, err := c.dataDir()
	if err != nil {
		return out.fail(&cmdError{kind: "config", code: exitConfig, msg: err.Error(), hint: "Set HOME (or XDG_DATA_HOME) to a folder Postcard can write."})
	}
	cache := contacts.Cache{Dir: dir}
	switch {
	case len(o.args) == 0:
		return c.contactsStatus(out, cache)
	case o.args[0] == "sync" && len(o.args) == 1 && !isDashDash(args):
		return c.contactsSync(ctx, out, cache)
	case o.args[0] == "import" && !isDashDash(args):
		if len(o.args) != 2 {
			return out.fail(usageErrorf("contacts", "contacts import takes one file: postcard contacts import FILE.vcf"))
		}
		return c.contactsImport(out, cache, o.args[1])
	}
	return c.contactsSearch(out, cache, strings.Join(o.args, " "), o.limit)
}

// isDashDash reports whether args hold "--" before anything else that is
// not a flag: "postcard contacts -- sync" searches for sync.
func isDashDash(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return true
		}
		if !strings.HasPrefix(a, "-") {
			return false
		}
	}
	return false
}

// contactsJSON is what postcard contacts --json prints on success, but
// for a search (searchJSON).
type contactsJSON struct {
	OK bool `json:"ok"`
	// What is saved: the synced contacts (from Server, as Account, at
	// SyncedAt), the imported ones, and the addresses of the Sent record.
	Server   string    `json:"server,omitempty"`
	Account  string    `json:"account,omitempty"`
	SyncedAt time.Time `json:"synced_at,omitzero"`
	Synced   *int      `json:"synced,omitempty"`
	Imported *int      `json:"imported,omitempty"`
	Sent     *int      `json:"sent,omitempty"`
	// A sync or an import: the cards read.
	Cards   *int                 `json:"cards,omitempty"`
	Message string               `json:"message,omitempty"`
	Stages  []mailer.StageResult `json:"stages,omitempty"`
}

// searchJSON is what postcard contacts --json QUERY prints: the
// suggestions, best first, none as [].
type searchJSON struct {
	OK          bool                  `json:"ok"`
	Query       string                `json:"query"`
	Suggestions []contacts.Suggestion `json:"suggestions"`
}

func (c *command) writeContactsJSON(r any) int {
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		fmt.Fprintf(c.stderr, "postcard: writing the result: %v\n", err)
	}
	return exitOK
}

// sentItems reads the Sent record; what cannot be read is left out, with
// a warning.
func (c *command) sentItems(out output) []store.SentItem {
	st, err := c.openStore()
	if err != nil {
		out.warn(printable(err.Error()))
		return nil
	}
	items, err := st.Sent()
	if err != nil {
		out.warn("the Sent record could not be read: " + printable(err.Error()))
	}
	return items
}

func (c *command) contactsSearch(out output, cache contacts.Cache, query string, limit int) int {
	if n := len([]rune(strings.Join(strings.Fields(query), ""))); n < contacts.MinQuery {
		return out.fail(usageErrorf("contacts", "contacts: type at least %d characters to search", contacts.MinQuery))
	}
	cs, err := cache.Contacts()
	if err != nil {
		out.warn(printable(err.Error()))
	}
	found := contacts.NewIndex(c.sentItems(out), cs, time.Now()).Suggest(query, limit)
	if out.json {
		if found == nil {
			found = []contacts.Suggestion{}
		}
		return c.writeContactsJSON(searchJSON{OK: true, Query: query, Suggestions: found})
	}
	if len(found) == 0 {
		fmt.Fprintf(c.stderr, "Nothing matches %q.\n", printable(query))
		return exitOK
	}
	for _, s := range found {
		fmt.Fprintln(c.stdout, printable(s.Text))
	}
	return exitOK
}

func (c *command) contactsStatus(out output, cache contacts.Cache) int {
	synced, err := cache.Synced()
	if err != nil {
		out.warn(printable(err.Error()))
	}
	imported, err := cache.Imported()
	if err != nil {
		out.warn(printable(err.Error()))
	}
	sent := contacts.NewIndex(c.sentItems(out), nil, time.Now()).Len()
	nSynced, nImported := len(synced.Contacts), len(imported.Contacts)
	if out.json {
		return c.writeContactsJSON(contactsJSON{OK: true, Server: synced.Server, Account: synced.Account, SyncedAt: synced.Updated,
			Synced: &nSynced, Imported: &nImported, Sent: &sent})
	}
	w := c.stdout
	if synced.Updated.IsZero() {
		fmt.Fprintln(w, "Contacts: never synced (postcard contacts sync).")
	} else {
		fmt.Fprintf(w, "Contacts: %s, synced from %s on %s.\n", plural(nSynced, "address", "addresses"), printable(synced.Server), synced.Updated.Local().Format("2006-01-02 15:04"))
	}
	fmt.Fprintf(w, "Imported: %s from .vcf files.\n", plural(nImported, "address", "addresses"))
	fmt.Fprintf(w, "Sent:     %s written to.\n", plural(sent, "address", "addresses"))
	if a, _, err := c.loadAccount(); err == nil {
		if _, ok := a.Contacts(); !ok {
			fmt.Fprintln(w, "\nReading the contacts is off for this account; postcard login --contacts-url URL (or --contacts) turns it on.")
		}
	}
	fmt.Fprintln(w, "\nSearch with: postcard contacts QUERY")
	return exitOK
}

func (c *command) contactsSync(ctx context.Context, out output, cache contacts.Cache) int {
	a, _, err := c.loadAccount()
	if err != nil {
		return out.fail(err)
	}
	srv, ok := a.Contacts()
	if !ok {
		ce := &cmdError{kind: "config", code: exitConfig, msg: "reading the contacts is turned off for this account",
			hint: "Run postcard login --contacts to turn it on."}
		if !a.NoContacts {
			ce.msg = fmt.Sprintf("no contacts server is set for %s", a.Host)
			ce.hint = "Postcard reads iCloud Contacts only for an iCloud account. Name your CardDAV server with postcard login --contacts-url https://..."
		}
		return out.fail(ce)
	}
	var stages []mailer.StageResult
	client := &contacts.Client{OnStage: func(r mailer.StageResult) {
		stages = append(stages, r)
		out.stage(r)
	}}
	l, res, err := cache.Sync(ctx, client, srv, c.storedPassword(a))
	if err != nil {
		return out.fail(err, stages...)
	}
	msg := fmt.Sprintf("Synced %s from %s in %s of %s; saved in %s.", plural(len(l.Contacts), "address", "addresses"),
		plural(res.Cards, "card", "cards"), plural(len(res.AddressBooks), "address book", "address books"),
		printable(srv.URL), filepath.Join(cache.Dir, contacts.SyncedFile))
	if out.json {
		n := len(l.Contacts)
		return c.writeContactsJSON(contactsJSON{OK: true, Message: msg, Server: l.Server, Account: l.Account, SyncedAt: l.Updated,
			Synced: &n, Cards: &res.Cards, Stages: stages})
	}
	fmt.Fprintln(c.stdout, msg)
	return exitOK
}

func (c *command) contactsImport(out output, cache contacts.Cache, file string) int {
	f, err := os.Open(file)
	if err != nil {
		return out.fail(&cmdError{kind: "not-found", code: exitDataErr, msg: printable(err.Error()), hint: "Give the path of a .vcf file exported from your address book."})
	}
	defer f.Close()
	cards, n, err := cache.Import(f)
	switch {
	case errors.Is(err, contacts.ErrNoCards):
		return out.fail(&cmdError{kind: "invalid-vcf", code: exitDataErr, msg: fmt.Sprintf("%s holds no card with an email address", printable(file)),
			hint: "Export the contacts as vCard (.vcf) from your address book, then import that file."})
	case errors.Is(err, contacts.ErrVCFTooLarge):
		return out.fail(&cmdError{kind: "invalid-vcf", code: exitDataErr, msg: printable(err.Error()),
			hint: "Export only the contacts you write to, then import that file."})
	case err != nil:
		return out.fail(&cmdError{kind: "config", code: exitConfig, msg: printable(err.Error()),
			hint: fmt.Sprintf("Postcard keeps the contacts in %s: make sure it is a folder you can write.", cache.Dir)})
	}
	msg := fmt.Sprintf("Imported %s from %s of %s.", plural(n, "address", "addresses"), plural(cards, "card", "cards"), printable(file))
	if out.json {
		return c.writeContactsJSON(contactsJSON{OK: true, Message: msg, Imported: &n, Cards: &cards})
	}
	fmt.Fprintln(c.stdout, msg)
	return exitOK
}

// plural is "1 card" or "2 cards".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
