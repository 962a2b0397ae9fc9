package ui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
)

// Settings is what the settings pane edits, as plain data.
type Settings struct {
	Account mailer.Account
	// Password is the password as typed; "" means the one already stored
	// (or kept for the session), when UseStored is set.
	Password  string
	UseStored bool
}

// Validate checks the account and that there is a password to sign in with.
// Its errors are *mailer.Error naming the bad setting.
func (s Settings) Validate() error {
	if err := s.Account.Validate(); err != nil {
		return err
	}
	if s.Password == "" && !s.UseStored {
		return &mailer.Error{Kind: mailer.KindInvalidAccount, Stage: mailer.StageValidate,
			Detail: "the password is empty: paste the app-specific password"}
	}
	return nil
}

var appSpecificRE = regexp.MustCompile(`^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$`)

// PasswordNote is the warning shown under the password on the iCloud host
// when it does not look like an app-specific password, or "".
func (s Settings) PasswordNote() string {
	if !s.Account.IsICloud() || s.Password == "" || appSpecificRE.MatchString(s.Password) {
		return ""
	}
	return "This looks like an Apple ID password; iCloud needs an app-specific password (xxxx-xxxx-xxxx-xxxx)."
}

// fieldError says what is wrong with one setting as typed so far, or nil
// while it is empty: the rules are mailer's, the same as the command line's.
func fieldError(a mailer.Account, f mailer.Setting, typed string) error {
	if strings.TrimSpace(typed) == "" {
		return nil
	}
	err := a.ValidateSetting(f)
	var e *mailer.Error
	if errors.As(err, &e) {
		return errors.New(e.Detail)
	}
	return err
}

// appleIDURL is where app-specific passwords are made.
const appleIDURL = "https://appleid.apple.com/account/manage"

// settingsPane edits the account and the password, checks the login and
// stores the password. Only the widgets that later code reads are fields.
type settingsPane struct {
	w *window

	host, port                  *widget.Entry
	portErr                     *widget.Label
	security                    *widget.RadioGroup
	defaults                    *widget.Button
	username, from, displayName *widget.Entry
	usernameErr, fromErr        *widget.Label
	password                    *widget.Entry
	passwordNote                *widget.Label
	createPassword              *widget.Button

	keychain            *widget.Label
	forget, sessionOnly *widget.Button

	save                    *button
	test, testEmail, cancel *widget.Button
	activity                *widget.Activity
	status                  *widget.Label

	failure                           *failureView
	saveAnyway, failureCreatePassword *widget.Button
	checklist                         *checklist

	undoDelay *widget.Select
	fields    *container.Scroll
	// sendWaiting sends, after a fix, the messages the Outbox holds.
	sendWaiting *button
	// prevFocus is where the focus was when an operation began.
	prevFocus fyne.Focusable

	sentCopy           *widget.Check
	imapHost, imapPort *widget.Entry
	imapSecurity       *widget.RadioGroup
	imapBox            *fyne.Container
	imapChecklist      *checklist
	contactsChecklist  *checklist
	identities         *identitiesForm
	contactsForm       *contactsForm

	content fyne.CanvasObject

	// stop cancels the check, save, test email or keychain call that runs
	// (nil when none does); only the UI goroutine reads or writes it.
	stop context.CancelFunc
}

func newSettingsPane(w *window) *settingsPane {
	p := &settingsPane{w: w}

	p.host = widget.NewEntry()
	p.host.OnChanged = func(string) { p.fieldsChanged() }
	p.defaults = widget.NewButton("Use iCloud defaults", p.useICloudDefaults)
	p.port = widget.NewEntry()
	p.port.OnChanged = func(s string) { showError(p.portErr, fieldError(p.settings().Account, mailer.SettingPort, s)) }
	p.portErr = errorLabel()
	p.security = widget.NewRadioGroup([]string{mailer.StartTLS.Choice(), mailer.ImplicitTLS.Choice()}, func(choice string) {
		for _, sec := range []mailer.Security{mailer.StartTLS, mailer.ImplicitTLS} {
			if choice == sec.Choice() {
				p.port.SetText(strconv.Itoa(sec.UsualPort()))
			}
		}
	})
	p.security.Required = true
	p.security.Horizontal = true

	p.username = widget.NewEntry()
	p.username.SetPlaceHolder("name@icloud.com")
	p.username.OnChanged = func(string) { p.fieldsChanged() }
	p.usernameErr = errorLabel()
	p.from = widget.NewEntry()
	p.from.SetPlaceHolder("Same as the username; or an alias of this account")
	p.from.OnChanged = func(s string) { showError(p.fromErr, fieldError(p.settings().Account, mailer.SettingFrom, s)) }
	p.fromErr = errorLabel()
	p.displayName = widget.NewEntry()
	p.displayName.SetPlaceHolder("Your name, as recipients see it")

	p.password = widget.NewPasswordEntry()
	p.password.SetPlaceHolder("xxxx-xxxx-xxxx-xxxx")
	p.password.OnChanged = func(string) { p.fieldsChanged() }
	p.passwordNote = errorLabel()
	p.passwordNote.Importance = widget.WarningImportance
	p.createPassword = widget.NewButtonWithIcon("Create an app-specific password…", theme.ComputerIcon(), w.openAppleID)

	p.keychain = widget.NewLabel("")
	p.keychain.Wrapping = fyne.TextWrapWord
	p.forget = widget.NewButtonWithIcon("Forget password", theme.DeleteIcon(), p.Forget)
	p.sessionOnly = widget.NewButton("Use for this session only", p.UseForSession)

	p.save = newButton("Save", theme.DocumentSaveIcon(), p.Save)
	p.save.Importance = widget.HighImportance
	p.sendWaiting = newButton("Send now", theme.MailSendIcon(), p.SendWaiting)
	p.sendWaiting.Importance = widget.HighImportance
	p.sendWaiting.Hide()
	p.test = widget.NewButtonWithIcon("Test connection", theme.ViewRefreshIcon(), p.Test)
	p.testEmail = widget.NewButtonWithIcon("Send a test email to myself", theme.MailSendIcon(), p.SendTestEmail)
	p.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), p.Cancel)
	p.cancel.Hide()
	p.activity = widget.NewActivity()
	p.activity.Hide()
	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	p.status.Hide()

	p.saveAnyway = widget.NewButtonWithIcon("Save anyway", theme.DocumentSaveIcon(), p.SaveAnyway)
	p.failureCreatePassword = widget.NewButtonWithIcon("Create an app-specific password…", theme.ComputerIcon(), w.openAppleID)
	p.failure = newFailureView(w, p.saveAnyway, p.failureCreatePassword)
	p.checklist = newChecklist()

	p.undoDelay = widget.NewSelect(undoDelayChoices(), func(choice string) {
		for _, s := range undoDelays {
			if undoDelayChoice(s) == choice {
				w.d.App.Preferences().SetInt(prefUndoDelay, s)
			}
		}
	})
	p.undoDelay.SetSelected(undoDelayChoice(int(w.undoDelay() / time.Second)))

	p.sentCopy = widget.NewCheck("Keep a copy of each message sent in the Sent folder (iCloud: Sent Messages)", func(on bool) {
		setVisible(p.imapBox, on)
	})
	p.imapHost = widget.NewEntry()
	p.imapHost.SetPlaceHolder(mailer.ICloudIMAPHost + " (iCloud's, when sending through iCloud)")
	p.imapPort = widget.NewEntry()
	p.imapSecurity = widget.NewRadioGroup([]string{imapChoice(mailer.ImplicitTLS), imapChoice(mailer.StartTLS)}, func(choice string) {
		for _, sec := range []mailer.Security{mailer.ImplicitTLS, mailer.StartTLS} {
			if choice == imapChoice(sec) {
				p.imapPort.SetText(strconv.Itoa(sec.UsualIMAPPort()))
			}
		}
	})
	p.imapSecurity.Horizontal = true
	p.imapSecurity.Required = true
	p.imapChecklist = newIMAPChecklist()
	p.contactsChecklist = newContactsChecklist()
	p.identities = newIdentitiesForm(p)
	p.contactsForm = newContactsForm(p)
	imapForm := container.New(layout.NewFormLayout(),
		fieldLabel("IMAP host"), p.imapHost,
		fieldLabel("Encryption"), p.imapSecurity,
		fieldLabel("Port"), container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(96, p.imapHost.MinSize().Height), p.imapPort), nil),
	)
	imapNote := widget.NewLabel("The copy is filed over IMAP with the same username and password, so it shows in iCloud Mail on the web and on your phone.")
	imapNote.Wrapping = fyne.TextWrapWord
	p.imapBox = container.NewVBox(imapNote, imapForm)

	intro := widget.NewLabel("iCloud Mail takes your full iCloud address as the username and an app-specific password, not your Apple ID password.")
	intro.Wrapping = fyne.TextWrapWord
	portBox := container.NewGridWrap(fyne.NewSize(96, p.port.MinSize().Height), p.port)
	form := container.New(layout.NewFormLayout(),
		fieldLabel("Host"), container.NewBorder(nil, nil, nil, p.defaults, p.host),
		fieldLabel("Encryption"), p.security,
		fieldLabel("Port"), container.NewBorder(nil, nil, portBox, nil, p.portErr),
		fieldLabel("Username"), container.NewVBox(p.username, p.usernameErr),
		fieldLabel("From"), container.NewVBox(p.from, p.fromErr),
		fieldLabel("Name"), p.displayName,
		// The button goes under the field: beside it, at 1.5 scale, it
		// squeezed the field until its placeholder was cut.
		fieldLabel("Password"), container.NewVBox(p.password, p.passwordNote, container.NewHBox(p.createPassword)),
		fieldLabel("Keychain"), container.NewVBox(p.keychain, container.NewHBox(p.forget, p.sessionOnly)),
		fieldLabel("Undo send"), p.undoDelay,
	)
	buttons := container.NewHBox(p.save, p.test, p.testEmail, layout.NewSpacer(), p.activity, p.cancel)
	// The form scrolls; the buttons and what they report stay in view.
	fields := container.NewVScroll(container.NewPadded(container.NewVBox(heading("Server and account"), intro, form,
		heading("Addresses and signatures"), p.identities.box,
		heading("Sent folder"), p.sentCopy, p.imapBox,
		heading("Contacts"), p.contactsForm.box)))
	// What the buttons report scrolls in room of its own, so a long
	// checklist or card never raises the window's minimum size.
	reports := capped(container.NewVBox(p.status, container.NewHBox(p.sendWaiting), p.failure.box, p.checklist.box, p.imapChecklist.box, p.contactsChecklist.box), 230)
	results := container.NewPadded(container.NewVBox(buttons, reports))
	p.fields = fields
	p.content = container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), results), nil, nil, fields)

	a, _ := w.acct.get()
	p.showAccount(a)
	p.showKeychain()
	return p
}

// imapChoice is the IMAP port-and-encryption choice as offered.
func imapChoice(s mailer.Security) string {
	if s == mailer.StartTLS {
		return fmt.Sprintf("%d · STARTTLS", mailer.IMAPStartTLSPort)
	}
	return fmt.Sprintf("%d · SSL/TLS (iCloud)", mailer.IMAPImplicitTLSPort)
}

// undoDelayChoice is how the undo delay of s seconds is offered.
func undoDelayChoice(s int) string {
	if s == 0 {
		return "Off: send at once"
	}
	return fmt.Sprintf("%d seconds to undo a send", s)
}

func undoDelayChoices() []string {
	out := make([]string, len(undoDelays))
	for i, s := range undoDelays {
		out[i] = undoDelayChoice(s)
	}
	return out
}

// field is the entry of setting f, for the fix of a failure to land on.
func (p *settingsPane) field(f mailer.Setting) fyne.Focusable {
	switch f {
	case mailer.SettingHost:
		return p.host
	case mailer.SettingPort, mailer.SettingSecurity:
		// The encryption is a choice of two; the port beside it is what
		// the user types when the choice is not enough.
		return p.port
	case mailer.SettingUsername:
		return p.username
	case mailer.SettingFrom:
		return p.from
	case mailer.SettingDisplayName:
		return p.displayName
	case mailer.SettingPassword:
		return p.password
	case mailer.SettingIMAPHost:
		return p.imapHost
	case mailer.SettingIMAPPort, mailer.SettingIMAPSec:
		return p.imapPort
	}
	return nil
}

func heading(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.TextStyle.Bold = true
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

// showAccount fills the fields from a; the password field is left alone.
func (p *settingsPane) showAccount(a mailer.Account) {
	p.host.SetText(a.Host)
	p.security.SetSelected(a.Security.Choice())
	// After the choice, which sets the port of its own.
	p.port.SetText(strconv.Itoa(a.Port))
	p.username.SetText(a.Username)
	p.from.SetText(a.From)
	p.displayName.SetText(a.DisplayName)
	p.identities.show(a)
	p.contactsForm.show(a)
	p.sentCopy.SetChecked(!a.NoSentCopy)
	setVisible(p.imapBox, !a.NoSentCopy)
	p.imapHost.SetText(a.IMAPHost)
	sec := a.IMAPSecurity
	if sec == "" {
		sec = mailer.ImplicitTLS
	}
	p.imapSecurity.SetSelected(imapChoice(sec))
	if a.IMAPPort != 0 {
		p.imapPort.SetText(strconv.Itoa(a.IMAPPort))
	}
}

func (p *settingsPane) useICloudDefaults() {
	d := mailer.DefaultAccount()
	p.host.SetText(d.Host)
	p.security.SetSelected(d.Security.Choice())
	p.port.SetText(strconv.Itoa(d.Port))
}

// settings is what the fields hold now.
func (p *settingsPane) settings() Settings {
	port, _ := strconv.Atoi(strings.TrimSpace(p.port.Text))
	sec := mailer.StartTLS
	if p.security.Selected == mailer.ImplicitTLS.Choice() {
		sec = mailer.ImplicitTLS
	}
	s := Settings{
		Account: mailer.Account{
			Host:        strings.TrimSpace(p.host.Text),
			Port:        port,
			Security:    sec,
			Username:    strings.TrimSpace(p.username.Text),
			From:        strings.TrimSpace(p.from.Text),
			DisplayName: strings.TrimSpace(p.displayName.Text),
			IMAPHost:    strings.TrimSpace(p.imapHost.Text),
			NoSentCopy:  !p.sentCopy.Checked,
		},
		Password: p.password.Text,
	}
	s.Account.IMAPSecurity = mailer.ImplicitTLS
	if p.imapSecurity.Selected == imapChoice(mailer.StartTLS) {
		s.Account.IMAPSecurity = mailer.StartTLS
	}
	s.Account.IMAPPort, _ = strconv.Atoi(strings.TrimSpace(p.imapPort.Text))
	if p.identities != nil {
		p.identities.apply(&s.Account)
		p.contactsForm.apply(&s.Account)
	}
	if s.Account.IMAPHost == "" && s.Account.IMAPPort == mailer.IMAPImplicitTLSPort && s.Account.IMAPSecurity == mailer.ImplicitTLS {
		// iCloud's preset, as it is: keep following it.
		s.Account.IMAPPort, s.Account.IMAPSecurity = 0, ""
	}
	s.UseStored = s.Password == "" && p.w.acct.hasPassword()
	return s
}

// fieldsChanged re-checks what depends on the host, the username and the
// password as they are typed.
func (p *settingsPane) fieldsChanged() {
	s := p.settings()
	showError(p.usernameErr, fieldError(s.Account, mailer.SettingUsername, s.Account.Username))
	note := s.PasswordNote()
	p.passwordNote.SetText(note)
	setVisible(p.passwordNote, note != "")
}

// showKeychain says whether a password is stored, and offers what fits.
func (p *settingsPane) showKeychain() {
	state, kerr, session := p.w.acct.state()
	_, has := p.w.acct.get()
	p.forget.Hide()
	p.sessionOnly.Hide()
	p.keychain.Importance = widget.MediumImportance
	switch {
	case session:
		p.keychain.SetText("The password is kept for this session only; Postcard forgets it when it closes.")
		p.forget.Show()
	case state == passwordStored:
		p.keychain.SetText("Password stored in the keychain.")
		p.password.SetPlaceHolder("Stored in the keychain; type a new one to replace it")
		p.forget.Show()
	case state == passwordUnavailable:
		msg := "The keychain is not available or is locked."
		var e *mailer.Error
		if errors.As(kerr, &e) && e.Detail != "" {
			msg = sentence(e.Detail) // says the same, with the cause
		}
		msg += " Postcard cannot store the password there."
		p.keychain.SetText(msg)
		p.keychain.Importance = widget.WarningImportance
		p.sessionOnly.Show()
	case state == passwordUnknown && has:
		p.keychain.SetText("Looking for a stored password…")
	default:
		p.keychain.SetText("No password stored.")
		p.password.SetPlaceHolder("xxxx-xxxx-xxxx-xxxx")
	}
	p.keychain.Refresh()
}

// begin marks the start of a background operation; it returns its context,
// cancelled by the Cancel button.
func (p *settingsPane) begin(status string) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	p.failure.Hide()
	say(p.status, widget.MediumImportance, status)
	p.activity.Show()
	p.activity.Start()
	p.prevFocus = p.w.win.Canvas().Focused()
	p.save.Disable()
	for _, b := range []*widget.Button{p.test, p.testEmail, p.forget, p.sessionOnly} {
		b.Disable()
	}
	p.cancel.Enable()
	p.cancel.Show()
	return ctx
}

// end marks the end of the background operation.
func (p *settingsPane) end() {
	p.stop = nil
	p.activity.Stop()
	p.activity.Hide()
	p.cancel.Hide()
	p.save.Enable()
	for _, b := range []*widget.Button{p.test, p.testEmail, p.forget, p.sessionOnly} {
		b.Enable()
	}
	// The focus goes back where it was (a disabled button lost it).
	if c := p.w.win.Canvas(); p.prevFocus != nil && (c.Focused() == nil || c.Focused() == fyne.Focusable(p.cancel)) {
		c.Focus(p.prevFocus)
	}
	p.prevFocus = nil
}

// clearResults hides what an earlier Save, Test or test email reported:
// it would contradict the failure the user comes to fix.
func (p *settingsPane) clearResults() {
	if p.stop != nil {
		return
	}
	say(p.status, widget.MediumImportance, "")
	p.failure.Hide()
	p.checklist.box.Hide()
	p.imapChecklist.box.Hide()
	p.contactsChecklist.box.Hide()
	p.sendWaiting.Hide()
}

// showContacts says how the contacts stand.
func (p *settingsPane) showContacts() {
	a, _ := p.w.acct.get()
	p.contactsForm.showState(p.w.contacts, a)
}

// showFix says, under the buttons, what the failure the user came to fix
// was and what to do; the field it is about has the focus.
func (p *settingsPane) showFix(e *mailer.Error) {
	say(p.status, widget.WarningImportance, sentence(mailer.HintFor(e.Kind).Title)+" "+e.Hint())
}

// scrollTo scrolls the form so that o is in view.
func (p *settingsPane) scrollTo(o fyne.CanvasObject) {
	d := fyne.CurrentApp().Driver()
	top := d.AbsolutePositionForObject(o).Y - d.AbsolutePositionForObject(p.fields.Content).Y
	view := p.fields.Size().Height
	y := p.fields.Offset.Y
	switch {
	case top < y:
		y = top - theme.Padding()
	case top+o.Size().Height > y+view:
		y = top + o.Size().Height - view + theme.Padding()
	}
	p.fields.Offset.Y = max(0, y)
	p.fields.Refresh()
}

// offerSend shows Send now when, after a fix, the Outbox holds messages
// that wait or need attention.
func (p *settingsPane) offerSend() {
	n := 0
	for _, e := range p.w.entries {
		if e.State == store.StateWaiting || e.State == store.StateNeedsAttention {
			n++
		}
	}
	switch n {
	case 0:
		p.sendWaiting.Hide()
		return
	case 1:
		p.sendWaiting.SetText("Send the waiting message now")
	default:
		p.sendWaiting.SetText(fmt.Sprintf("Send the %d waiting messages now", n))
	}
	p.sendWaiting.Show()
}

// SendWaiting sends every message that waits or needs attention now.
func (p *settingsPane) SendWaiting() {
	for _, e := range p.w.entries {
		if e.State == store.StateWaiting || e.State == store.StateNeedsAttention {
			p.w.sendNow(e.ID)
		}
	}
	p.sendWaiting.Hide()
	say(p.status, widget.MediumImportance, "Sending… the Outbox shows how it goes.")
}

// Cancel stops the operation under way; the widgets change before the
// context is cancelled, so nothing here runs after the operation returned.
func (p *settingsPane) Cancel() {
	if p.stop == nil {
		return
	}
	say(p.status, widget.MediumImportance, "Cancelling…")
	p.cancel.Disable()
	p.stop()
}

// passwordSource is where the password for a check comes from.
type passwordSource int

const (
	fromTyped passwordSource = iota
	fromSession
	fromKeychain
)

// source says where s's password comes from; the keychain entry is the
// saved account's.
func (p *settingsPane) source(s Settings) passwordSource {
	switch {
	case s.Password != "":
		return fromTyped
	case p.w.acct.sessionPassword() != "":
		return fromSession
	}
	return fromKeychain
}

// passwordFor is where s's password comes from for a check or a test
// email; the keychain is read while connecting.
// passwordOf is the password the settings s are tested with, decided now,
// on the UI goroutine; the keychain is read only when it is called.
func (p *settingsPane) passwordOf(s Settings) mailer.PasswordFunc {
	saved, _ := p.w.acct.get()
	return passwordFor(p.w.d.Secrets, p.source(s), s, p.w.acct.sessionPassword(), saved.Username)
}

func passwordFor(secrets Secrets, src passwordSource, s Settings, session, storedUser string) mailer.PasswordFunc {
	switch src {
	case fromTyped:
		return mailer.Password(s.Password)
	case fromSession:
		return mailer.Password(session)
	}
	// The stored password, given only to the servers it was saved for:
	// settings that name another server ask for it again.
	a := s.Account
	a.Username = storedUser
	return func(ctx context.Context) (string, error) { return secrets.GetFor(ctx, a) }
}

// failed shows err from a settings operation; cancelled is only a status.
func (p *settingsPane) failed(outcome string, err error, saveAnyway bool) {
	if mailer.KindOf(err) == mailer.KindCancelled {
		say(p.status, widget.MediumImportance, "Cancelled. Nothing was changed.")
		return
	}
	say(p.status, widget.MediumImportance, "")
	setVisible(p.saveAnyway, saveAnyway)
	setVisible(p.failureCreatePassword, mailer.KindOf(err) == mailer.KindAuth)
	p.failure.Show(outcome, err)
}

// progress reports each stage on the UI goroutine to the status line and,
// for a check, to the checklist.
func (p *settingsPane) progress(a mailer.Account, check bool) func(mailer.StageResult) {
	return func(r mailer.StageResult) {
		p.w.do(func() {
			if p.stop == nil || p.cancel.Disabled() {
				return
			}
			if check {
				p.checklist.mark(r)
			}
			if t := progressText(r, a); t != "" {
				say(p.status, widget.MediumImportance, t)
			}
		})
	}
}

// ready returns the settings as typed when nothing is running and they are
// valid; otherwise it shows why under outcome ("Not saved").
func (p *settingsPane) ready(outcome string) (Settings, bool) {
	if p.stop != nil {
		return Settings{}, false
	}
	s := p.settings()
	if err := s.Validate(); err != nil {
		p.failed(outcome, err, false)
		return Settings{}, false
	}
	return s, true
}

// Save signs in with the settings in the background and, only when that
// works, stores the password in the keychain and writes the account file.
// On failure it shows the hint and offers Save anyway.
func (p *settingsPane) Save() {
	s, ok := p.ready("Not saved")
	if !ok {
		return
	}
	p.checklist.box.Hide() // the checklist is Test connection's
	p.runCheck(s, "Signing in to "+s.Account.Host+"…", func(err error) {
		if err != nil {
			p.failed("Not saved", err, true)
			return
		}
		p.store(s, true)
	})
}

// Test signs in without storing anything and shows each stage ticked or
// crossed, with the hint under the one that failed.
func (p *settingsPane) Test() {
	s, ok := p.ready("Not tested")
	if !ok {
		return
	}
	p.checklist.reset(s.Account)
	p.imapChecklist.box.Hide()
	p.contactsChecklist.box.Hide()
	ca, withContacts := s.Account.Contacts()
	withContacts = withContacts && p.w.d.Contacts != nil
	if withContacts {
		p.contactsChecklist.resetNames("Sign in to "+ca.URL, "Find the address books")
	}
	im, copies := s.Account.SentCopy()
	copies = copies && p.w.d.SentFolder != nil
	if copies {
		p.imapChecklist.resetIMAP(im)
	}
	p.runCheck(s, "Testing the connection to "+s.Account.Host+"…", func(err error) {
		if err == nil && copies {
			p.runIMAPCheck(s, im, func() {
				if withContacts {
					p.runContactsCheck(s, ca, nil)
				}
			})
			return
		}
		if err == nil && withContacts {
			p.runContactsCheck(s, ca, nil)
			return
		}
		if err == nil {
			say(p.status, widget.SuccessImportance, "The connection works: signed in as "+s.Account.Username+".")
			return
		}
		if mailer.KindOf(err) == mailer.KindCancelled {
			p.failed("Not tested", err, false)
			return
		}
		var e *mailer.Error
		if errors.As(err, &e) && p.checklist.hasRow(e.Stage) {
			// The hint sits under the failed stage; the details too.
			say(p.status, widget.DangerImportance, "The connection test failed at: "+p.checklist.rowName(e.Stage)+".")
			return
		}
		p.failed("Not tested", err, false)
	})
}

// runIMAPCheck checks the IMAP side of s (im) after the sending side
// passed: the login and the Sent folder, as more rows of the checklist.
func (p *settingsPane) runIMAPCheck(s Settings, im mailer.IMAPAccount, then func()) {
	pw, folder := p.passwordOf(s), p.w.d.SentFolder
	ctx := p.begin("Testing the copy in the Sent folder on " + im.Host + "…")
	progress := func(r mailer.StageResult) {
		p.w.do(func() {
			if p.stop != nil && !p.cancel.Disabled() {
				p.imapChecklist.mark(r)
			}
		})
	}
	go func() {
		stages, err := folder.Check(ctx, im, pw, progress)
		p.w.do(func() {
			p.end()
			p.imapChecklist.finish(stages, err)
			switch {
			case err == nil:
				say(p.status, widget.SuccessImportance, "The connection works: signed in as "+s.Account.Username+", and copies of the messages sent go in the Sent folder on "+im.Host+".")
			case mailer.KindOf(err) == mailer.KindCancelled:
				p.failed("Not tested", err, false)
			default:
				say(p.status, widget.WarningImportance, "Sending works, but copies of the messages sent cannot be saved in the Sent folder: see below.")
			}
			p.w.note(eventCheck)
			if mailer.KindOf(err) != mailer.KindCancelled && then != nil {
				then()
			}
		})
	}()
}

// runCheck signs in with s in the background and calls done with the
// outcome on the UI goroutine.
func (p *settingsPane) runCheck(s Settings, status string, done func(error)) {
	pw, m := p.passwordOf(s), p.w.d.Mailer
	ctx := p.begin(status)
	progress := p.progress(s.Account, true)
	go func() {
		stages, err := m.Check(ctx, s.Account, pw, progress)
		p.w.do(func() {
			p.end()
			p.checklist.finish(stages, err)
			done(err)
			p.w.note(eventCheck)
		})
	}()
}

// SaveAnyway stores the settings without signing in, after a failed Save.
func (p *settingsPane) SaveAnyway() {
	s, ok := p.ready("Not saved")
	if !ok {
		return
	}
	p.store(s, false)
}

// store puts the password in the keychain (moving it when the username
// changed) and writes the account file, in the background.
func (p *settingsPane) store(s Settings, verified bool) {
	old, hadAccount := p.w.acct.get()
	src := p.source(s)
	state, _, _ := p.w.acct.state()
	hadStored := state == passwordStored
	secrets, dir := p.w.d.Secrets, p.w.d.ConfigDir
	ctx := p.begin("Saving…")
	go func() {
		// One change of the account and keychain at a time, with the
		// command line's logins too.
		unlock, lerr := mailer.LockAccount(ctx, dir)
		if lerr != nil {
			p.w.do(func() {
				p.end()
				p.stored(s, src, nil, lerr, verified)
				p.w.note(eventSave)
			})
			return
		}
		defer unlock()
		// The account as it is now on disk: another process may have
		// changed it since this window read it.
		if onDisk, err := mailer.LoadAccount(dir); err == nil {
			old, hadAccount = onDisk, true
		}
		oldUser := ""
		if hadAccount && old.Username != s.Account.Username {
			oldUser = old.Username
		}
		var kerr error
		switch {
		case src == fromTyped:
			kerr = secrets.SetFor(ctx, s.Account, s.Password)
			if kerr == nil && oldUser != "" {
				// The old entry is stale now; not finding it is fine.
				if err := secrets.Delete(ctx, oldUser); err != nil && !errors.Is(err, mailer.ErrPasswordNotFound) {
					kerr = err
				}
			}
		case src == fromKeychain && hadStored && oldUser != "":
			kerr = secrets.Move(ctx, oldUser, s.Account.Username)
		}
		// A cancelled save stores nothing more; the account file is
		// written even when only the keychain failed, so the settings
		// are not lost and the password can be kept for the session.
		var ferr error
		if mailer.KindOf(kerr) != mailer.KindCancelled {
			ferr = mailer.SaveAccount(dir, s.Account)
		}
		p.w.do(func() {
			p.end()
			p.stored(s, src, kerr, ferr, verified)
			p.w.note(eventSave)
		})
	}()
}

// stored shows how store went and updates the window's account.
func (p *settingsPane) stored(s Settings, src passwordSource, kerr, ferr error, verified bool) {
	if mailer.KindOf(kerr) == mailer.KindCancelled {
		p.failed("Not saved", kerr, false)
		return
	}
	if ferr != nil {
		p.failed("Not saved", ferr, false)
		return
	}
	p.w.acct.set(s.Account)
	switch {
	case kerr == nil && src == fromTyped:
		p.w.acct.setKeychain(passwordStored, nil)
		p.w.acct.setSession("")
		p.password.SetText("")
	case kerr == nil:
		// Nothing new to store: the stored or session password stays.
	case errors.Is(kerr, mailer.ErrKeychainUnavailable) || errors.Is(kerr, mailer.ErrKeychainTimeout):
		p.w.acct.setKeychain(passwordUnavailable, kerr)
	default:
		p.showKeychain()
		p.failed("Password not stored", kerr, false)
		return
	}
	p.showKeychain()
	if state, _, session := p.w.acct.state(); state == passwordUnavailable && !session {
		say(p.status, widget.WarningImportance, "The account is saved, but the keychain could not store the password. Use it for this session only, or fix the keychain and save again.")
		return
	}
	if !verified {
		say(p.status, widget.WarningImportance, "Saved without signing in: these settings did not work when last tried. Test connection checks them again.")
		return
	}
	say(p.status, widget.SuccessImportance, "Saved. Postcard sends as "+s.Account.FromAddress()+".")
	p.offerSend()
}

// SendTestEmail sends a short message to the account's own address with the
// settings as they are typed, as the guide's last setup step.
func (p *settingsPane) SendTestEmail() {
	s, ok := p.ready("Not sent")
	if !ok {
		return
	}
	pw, m := p.passwordOf(s), p.w.d.Mailer
	to := s.Account.FromAddress()
	msg := mailer.Message{
		To:      []string{to},
		Subject: "Postcard test message",
		Body: "This is a test message from Postcard.\n\nIf you can read it, sending through " +
			s.Account.Host + " works.\n",
	}
	ctx := p.begin("Sending a test email to " + to + "…")
	progress := p.progress(s.Account, false)
	go func() {
		prepared, err := mailer.Prepare(s.Account, msg)
		if err == nil {
			_, err = m.Send(ctx, s.Account, pw, prepared.Outgoing(), progress)
		}
		p.w.do(func() {
			p.end()
			if err != nil {
				p.failed("Not sent", err, false)
			} else {
				say(p.status, widget.SuccessImportance, "Test email sent to "+to+". Look for it in your inbox.")
			}
			p.w.note(eventTestEmail)
		})
	}()
}

// Forget removes the password from the keychain (and from the session).
func (p *settingsPane) Forget() {
	if p.stop != nil {
		return
	}
	saved, _ := p.w.acct.get()
	user := saved.Username
	state, _, session := p.w.acct.state()
	if session || user == "" || state != passwordStored {
		p.w.acct.setSession("")
		say(p.status, widget.MediumImportance, "The password is forgotten.")
		return
	}
	secrets := p.w.d.Secrets
	ctx := p.begin("Removing the password from the keychain…")
	go func() {
		err := secrets.Delete(ctx, user)
		p.w.do(func() {
			p.end()
			if err != nil && !errors.Is(err, mailer.ErrPasswordNotFound) {
				p.failed("Not removed", err, false)
			} else {
				p.w.acct.setKeychain(passwordMissing, nil)
				say(p.status, widget.MediumImportance, "The password is removed from the keychain.")
			}
			p.w.note(eventForget)
		})
	}()
}

// UseForSession keeps the typed password in memory only, for when the
// keychain cannot store it.
func (p *settingsPane) UseForSession() {
	s := p.settings()
	if s.Password == "" {
		say(p.status, widget.WarningImportance, "Type the app-specific password first.")
		p.w.focusAfterInput(p.password)
		return
	}
	if err := s.Validate(); err != nil {
		p.failed("Not used", err, false)
		return
	}
	p.w.acct.setSession(s.Password)
	p.w.acct.set(s.Account)
	p.password.SetText("")
	p.showKeychain()
	say(p.status, widget.SuccessImportance, "Postcard will use this password until it closes.")
}
