package ui

import (
	"context"
	"time"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/contacts"
)

// Contacts reads the contacts from a CardDAV server and checks the login
// there, as *contacts.Client does (see Run); tests hand in fakes.
type Contacts interface {
	Sync(ctx context.Context, a mailer.CardDAVAccount, pw mailer.PasswordFunc) (contacts.Result, error)
	Check(ctx context.Context, a mailer.CardDAVAccount, pw mailer.PasswordFunc) ([]mailer.StageResult, error)
}

// contactsAdapter is the real Contacts; its OnStage is set per call.
type contactsAdapter struct {
	client contacts.Client
}

func (c contactsAdapter) Sync(ctx context.Context, a mailer.CardDAVAccount, pw mailer.PasswordFunc) (contacts.Result, error) {
	cl := c.client
	return cl.Sync(ctx, a, pw)
}

func (c contactsAdapter) Check(ctx context.Context, a mailer.CardDAVAccount, pw mailer.PasswordFunc) ([]mailer.StageResult, error) {
	cl := c.client
	return cl.Check(ctx, a, pw)
}

// contactsState is what the window knows of the contacts: the last sync,
// and whether one runs.
type contactsState struct {
	syncing bool
	last    contacts.List // the synced list as cached
	err     error         // the last sync's failure, if it failed
	count   int           // contacts in the cache, synced and imported
}

// rebuildIndex builds the suggestions' index from Sent and the cached
// contacts, in the background, and swaps it in: typing never waits for it,
// and suggestions work offline.
func (w *window) rebuildIndex() {
	st, cache, now := w.d.Store, w.contactsCache(), w.d.Now
	go func() {
		sent, _ := st.Sent()
		cards, _ := cache.Contacts()
		synced, _ := cache.Synced()
		idx := contacts.NewIndex(sent, cards, now())
		w.index.Store(idx)
		w.do(func() {
			w.contacts.last, w.contacts.count = synced, len(cards)
			w.settings.showContacts()
			w.note(eventIndex)
		})
	}()
}

func (w *window) contactsCache() contacts.Cache {
	return contacts.Cache{Dir: w.d.Store.Dir()}
}

// syncContacts reads the contacts of the account from its CardDAV server
// in the background, caches them and rebuilds the index; a failure never
// blocks typing, and shows in Settings with its hint.
func (w *window) syncContacts() {
	a, _ := w.acct.get()
	ca, ok := a.Contacts()
	if !ok || w.d.Contacts == nil || w.contacts.syncing {
		w.settings.showContacts()
		return
	}
	w.contacts.syncing = true
	w.settings.showContacts()
	client, cache, pw := w.d.Contacts, w.contactsCache(), w.acct.password()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		res, err := client.Sync(ctx, ca, pw)
		if err == nil {
			l := contacts.List{Server: ca.URL, Account: ca.Username, Updated: time.Now(), Contacts: res.Contacts}
			if l.Contacts == nil {
				l.Contacts = []contacts.Contact{}
			}
			err = cache.SaveSynced(l)
		}
		w.do(func() {
			w.contacts.syncing, w.contacts.err = false, err
			w.rebuildIndex()
			w.note(eventContacts)
		})
	}()
}
