package ui

import (
	"fmt"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
)

// identitiesForm edits the account's addresses and their signatures: the
// aliases as lines ("Name <address>"), and the signature of the address
// picked.
type identitiesForm struct {
	p          *settingsPane
	aliases    *widget.Entry
	aliasesErr *widget.Label
	sigFor     *widget.Select
	signature  *widget.Entry
	// signatures holds the signatures as edited, by address, until Save.
	signatures map[string]string
	editing    string // the address whose signature the entry shows
	box        fyne.CanvasObject
}

func newIdentitiesForm(p *settingsPane) *identitiesForm {
	f := &identitiesForm{p: p, signatures: map[string]string{}}
	f.aliases = widget.NewMultiLineEntry()
	f.aliases.SetPlaceHolder("Your other addresses, one a line: aliases, or custom-domain addresses of iCloud+\nAnn at work <ann@example.org>")
	f.aliases.SetMinRowsVisible(3)
	f.aliasesErr = errorLabel()
	f.aliases.OnChanged = func(string) {
		_, err := parseAliases(f.aliases.Text)
		showError(f.aliasesErr, err)
		f.refreshChoices()
	}
	f.signature = widget.NewMultiLineEntry()
	f.signature.SetPlaceHolder("A few lines that go under each new message, after \"-- \"")
	f.signature.SetMinRowsVisible(3)
	f.signature.OnChanged = func(s string) {
		if f.editing != "" {
			f.signatures[strings.ToLower(f.editing)] = s
		}
	}
	f.sigFor = widget.NewSelect(nil, func(addr string) {
		f.editing = addressOf(addr)
		f.signature.SetText(f.signatures[strings.ToLower(f.editing)])
	})
	f.box = container.New(layout.NewFormLayout(),
		fieldLabel("Aliases"), container.NewVBox(f.aliases, f.aliasesErr),
		fieldLabel("Signature"), container.NewVBox(f.sigFor, f.signature),
	)
	return f
}

// show fills the form from a.
func (f *identitiesForm) show(a mailer.Account) {
	var lines []string
	f.signatures = map[string]string{strings.ToLower(a.FromAddress()): a.Signature}
	for _, id := range a.Aliases {
		lines = append(lines, id.String())
		f.signatures[strings.ToLower(id.Address)] = id.Signature
	}
	f.aliases.SetText(strings.Join(lines, "\n"))
	f.refreshChoices()
}

// refreshChoices offers the default address and the aliases as typed.
func (f *identitiesForm) refreshChoices() {
	a := f.p.settings().Account
	var opts []string
	for _, id := range a.Identities() {
		opts = append(opts, id.String())
	}
	f.sigFor.SetOptions(opts)
	sel := ""
	for _, o := range opts {
		if strings.EqualFold(addressOf(o), f.editing) {
			sel = o
		}
	}
	if sel == "" && len(opts) > 0 {
		sel = opts[0]
	}
	f.sigFor.SetSelected(sel)
}

// apply puts the aliases and signatures as edited into a.
func (f *identitiesForm) apply(a *mailer.Account) {
	ids, _ := parseAliases(f.aliases.Text)
	for i := range ids {
		ids[i].Signature = f.signatures[strings.ToLower(ids[i].Address)]
	}
	a.Aliases = ids
	a.Signature = f.signatures[strings.ToLower(a.FromAddress())]
}

// parseAliases reads "Name <address>" lines; the error names the line that
// is not an address.
func parseAliases(text string) ([]mailer.Identity, error) {
	var out []mailer.Identity
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		addrs, err := mailer.ParseAddressList(line)
		if err != nil || len(addrs) != 1 {
			return out, fmt.Errorf("%q is not one address", line)
		}
		out = append(out, mailer.Identity{Address: addrs[0].Address, Name: addrs[0].Name})
	}
	return out, nil
}

// addressOf is the address of "Name <address>", or the text itself.
func addressOf(s string) string {
	if i := strings.LastIndexByte(s, '<'); i >= 0 && strings.HasSuffix(s, ">") {
		return s[i+1 : len(s)-1]
	}
	return strings.TrimSpace(s)
}

// contactsForm is the Contacts part of the settings: the CardDAV server
// (iCloud's preset), on or off, the last sync, Sync now and a .vcf import.
type contactsForm struct {
	p         *settingsPane
	on        *widget.Check
	url       *widget.Entry
	urlErr    *widget.Label
	status    *widget.Label
	sync      *widget.Button
	importVCF *widget.Button
	box       fyne.CanvasObject
}

func newContactsForm(p *settingsPane) *contactsForm {
	f := &contactsForm{p: p}
	f.url = widget.NewEntry()
	f.url.SetPlaceHolder(mailer.ICloudContactsURL + " (iCloud's, when sending through iCloud)")
	f.urlErr = errorLabel()
	f.url.OnChanged = func(s string) {
		a := p.settings().Account
		showError(f.urlErr, fieldError(a, mailer.SettingContactsURL, s))
	}
	f.on = widget.NewCheck("Suggest addresses from my contacts (iCloud Contacts, read only)", func(on bool) {
		setVisible(f.url, on)
	})
	f.status = widget.NewLabel("")
	f.status.Wrapping = fyne.TextWrapWord
	f.sync = widget.NewButtonWithIcon("Sync now", theme.ViewRefreshIcon(), func() { p.w.syncContacts() })
	f.importVCF = widget.NewButtonWithIcon("Import a .vcf file…", theme.FolderOpenIcon(), f.chooseVCF)
	note := widget.NewLabel("Addresses are suggested from everyone you wrote to and from your contacts, kept on this computer so suggestions work offline.")
	note.Wrapping = fyne.TextWrapWord
	f.box = container.NewVBox(note, f.on, container.NewVBox(f.url, f.urlErr), f.status, container.NewHBox(f.sync, f.importVCF))
	return f
}

func (f *contactsForm) show(a mailer.Account) {
	f.on.SetChecked(!a.NoContacts)
	f.url.SetText(a.ContactsURL)
	setVisible(f.url, !a.NoContacts)
}

// apply puts the contacts settings as edited into a.
func (f *contactsForm) apply(a *mailer.Account) {
	a.NoContacts = !f.on.Checked
	a.ContactsURL = strings.TrimSpace(f.url.Text)
}

// showState says how the contacts stand: syncing, the last sync, or why
// it failed, with the hint.
func (f *contactsForm) showState(st contactsState, a mailer.Account) {
	_, on := a.Contacts()
	switch {
	case st.syncing:
		say(f.status, widget.MediumImportance, "Syncing the contacts…")
		f.sync.Disable()
		return
	case st.err != nil:
		var e *mailer.Error
		text := "The contacts could not be synced: " + st.err.Error()
		if me, ok := st.err.(*mailer.Error); ok {
			e = me
			text = "The contacts could not be synced: " + lowerFirst(mailer.HintFor(e.Kind).Title) + ". " + e.Hint()
		}
		if st.count > 0 {
			text += fmt.Sprintf(" The %d contacts saved before are still suggested.", st.count)
		}
		say(f.status, widget.WarningImportance, text)
	case !st.last.Updated.IsZero():
		say(f.status, widget.MediumImportance, fmt.Sprintf("%d contacts, synced %s from %s.", st.count, clock(st.last.Updated), st.last.Server))
	case !on:
		say(f.status, widget.MediumImportance, fmt.Sprintf("%d contacts imported. No contacts server is set.", st.count))
	default:
		say(f.status, widget.MediumImportance, "Not synced yet.")
	}
	f.sync.Enable()
	setVisible(f.sync, on)
}

// chooseVCF imports the contacts of a .vcf file the user picks.
func (f *contactsForm) chooseVCF() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		cache, w := f.p.w.contactsCache(), f.p.w
		go func() {
			file, err := os.Open(path)
			var cards, addrs int
			if err == nil {
				cards, addrs, err = cache.Import(file)
				file.Close()
			}
			w.do(func() {
				if err != nil {
					say(f.status, widget.WarningImportance, "The file could not be imported: "+err.Error())
					return
				}
				say(f.status, widget.SuccessImportance, fmt.Sprintf("Imported %d addresses from %d cards.", addrs, cards))
				w.rebuildIndex()
			})
		}()
	}, f.p.w.win)
	d.Show()
}

// checkContacts is Test connection's Contacts rows: the login on the
// CardDAV server and the address books, without reading the cards.
func (p *settingsPane) runContactsCheck(s Settings, ca mailer.CardDAVAccount, then func()) {
	pw, client := p.passwordOf(s), p.w.d.Contacts
	ctx := p.begin("Testing the contacts server " + ca.URL + "…")
	go func() {
		stages, err := client.Check(ctx, ca, pw)
		p.w.do(func() {
			p.end()
			p.contactsChecklist.finish(stages, err)
			if err != nil && mailer.KindOf(err) != mailer.KindCancelled {
				say(p.status, widget.WarningImportance, "Sending works, but the contacts cannot be read: see below.")
			}
			p.w.note(eventCheck)
			if err == nil && then != nil {
				then()
			}
		})
	}()
}

// newContactsChecklist is the checklist of the contacts server.
func newContactsChecklist() *checklist {
	c := newChecklistOf("Contacts",
		[]mailer.Stage{mailer.StageResolve, mailer.StageConnect, mailer.StageGreeting, mailer.StageTLS, mailer.StageLogin, mailer.StageKeychain},
		[]mailer.Stage{mailer.StageDiscover})
	c.rows[0].tickAt = mailer.StageLogin
	return c
}
