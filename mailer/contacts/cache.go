package contacts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

// The files of a Cache, in its folder.
const (
	SyncedFile   = "contacts.json"
	ImportedFile = "contacts-imported.json"
)

// maxCacheFile bounds what is read of a cache file: DefaultMaxContacts
// addresses with long names fit several times over.
const maxCacheFile = 64 << 20

// Cache keeps the contacts on this machine, so that suggestions work
// offline: those synced from the server (SyncedFile) and those imported
// from .vcf files (ImportedFile), each a JSON file in Dir (usually
// mailer.DataDir()), written atomically and readable only by the user.
// Each file is replaced whole, so a sync and an import never undo each
// other.
type Cache struct {
	Dir string
}

// List is the contents of one cache file.
type List struct {
	// Server is the CardDAV URL synced from, and Account the username;
	// empty for imported contacts.
	Server  string `json:"server,omitempty"`
	Account string `json:"account,omitempty"`
	// Updated is when the list was last synced or imported into.
	Updated  time.Time `json:"updated,omitzero"`
	Contacts []Contact `json:"contacts"`
}

// Synced returns the contacts of the last sync; an empty List if there
// was none.
func (c Cache) Synced() (List, error) { return c.load(SyncedFile) }

// Imported returns the contacts imported from .vcf files; an empty List
// if there are none.
func (c Cache) Imported() (List, error) { return c.load(ImportedFile) }

// Contacts returns the synced and the imported contacts together, for
// NewIndex. A file that cannot be read is left out and its error
// returned with what could be read.
func (c Cache) Contacts() ([]Contact, error) {
	s, err1 := c.Synced()
	i, err2 := c.Imported()
	return append(s.Contacts, i.Contacts...), errors.Join(err1, err2)
}

// SaveSynced replaces the synced contacts with l.
func (c Cache) SaveSynced(l List) error { return c.save(SyncedFile, l) }

// Sync reads the contacts of the account through client and, if that
// worked, replaces the synced contacts with them; on failure the contacts
// saved before stay. It returns what was saved. Errors are the client's,
// or one saving the file.
func (c Cache) Sync(ctx context.Context, client *Client, a mailer.CardDAVAccount, pw mailer.PasswordFunc) (List, Result, error) {
	res, err := client.Sync(ctx, a, pw)
	if err != nil {
		return List{}, res, err
	}
	l := List{Server: a.URL, Account: a.Username, Updated: time.Now(), Contacts: res.Contacts}
	if l.Contacts == nil {
		l.Contacts = []Contact{}
	}
	if err := c.SaveSynced(l); err != nil {
		return List{}, res, err
	}
	return l, res, nil
}

// Import adds the contacts of a .vcf file (see ReadVCF) to the imported
// ones; an address imported before takes the name it has in r. It returns
// how many cards were read and how many addresses r held.
func (c Cache) Import(r io.Reader) (cards, addresses int, err error) {
	read, cards, err := ReadVCF(r, DefaultMaxContacts)
	if err != nil {
		return cards, 0, err
	}
	l, err := c.Imported()
	if err != nil {
		return cards, 0, err
	}
	at := map[string]int{}
	for i, ct := range l.Contacts {
		at[foldAddress(ct.Email)] = i
	}
	for _, ct := range read {
		if i, ok := at[foldAddress(ct.Email)]; ok {
			l.Contacts[i] = ct
			continue
		}
		at[foldAddress(ct.Email)] = len(l.Contacts)
		l.Contacts = append(l.Contacts, ct)
	}
	if len(l.Contacts) > DefaultMaxContacts {
		return cards, 0, fmt.Errorf("%w: with it, more than %d addresses would be imported", ErrVCFTooLarge, DefaultMaxContacts)
	}
	l.Updated = time.Now()
	if err := c.save(ImportedFile, l); err != nil {
		return cards, 0, err
	}
	return cards, len(read), nil
}

func (c Cache) load(name string) (List, error) {
	path := filepath.Join(c.Dir, name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return List{}, nil
	}
	if err != nil {
		return List{}, fmt.Errorf("contacts: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCacheFile+1))
	if err != nil {
		return List{}, fmt.Errorf("contacts: reading %s: %w", path, err)
	}
	if len(data) > maxCacheFile {
		return List{}, fmt.Errorf("contacts: %s is larger than %d MB; sync or import again", path, maxCacheFile>>20)
	}
	var l List
	if err := json.Unmarshal(data, &l); err != nil {
		return List{}, fmt.Errorf("contacts: reading %s: %w", path, err)
	}
	return l, nil
}

func (c Cache) save(name string, l List) error {
	if c.Dir == "" {
		return errors.New("contacts: no folder to keep the contacts in")
	}
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return mailer.WriteFileAtomic(filepath.Join(c.Dir, name), append(data, '\n'))
}
