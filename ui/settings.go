package ui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
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

// usernameError says what is wrong with the username as typed so far, or nil.
// On iCloud the username is the full address.
func usernameError(a mailer.Account) error {
	u := strings.TrimSpace(a.Username)
	if u == "" || !a.IsICloud() {
		return nil
	}
	if !isBareAddress(u) {
		return fmt.Errorf("use your full iCloud address, like name@icloud.com")
	}
	return nil
}

func fromError(from string) error {
	from = strings.TrimSpace(from)
	if from == "" || isBareAddress(from) {
		return nil
	}
	return fmt.Errorf("%q is not an email address", from)
}

func isBareAddress(s string) bool {
	addrs, err := mailer.ParseAddressList(s)
	return err == nil && len(addrs) == 1 && addrs[0].Address == s
}

func portError(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("the port is a number from 1 to 65535 (iCloud: 587 or 465)")
	}
	return nil
}

// The port and encryption choices; each sets both.
const (
	choiceStartTLS = "587 · STARTTLS (recommended)"
	choiceSSL      = "465 · SSL/TLS"
)

// appleIDURL is where app-specific passwords are made.
const appleIDURL = "https://appleid.apple.com/account/manage"

// passwordState is what the keychain said about the account's password.
type passwordState int

const (
	passwordUnknown     passwordState = iota // not looked up (yet)
	passwordStored                           // in the keychain
	passwordMissing                          // none stored
	passwordUnavailable                      // no keychain, or it did not answer
)

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

	save, test, testEmail, cancel *widget.Button
	activity                      *widget.Activity
	status                        *widget.Label

	failure                           *failureView
	saveAnyway, failureCreatePassword *widget.Button
	checklist                         *checklist

	content fyne.CanvasObject

	// busy is set while a check, save, test email or keychain call runs;
	// only the UI goroutine reads or writes it.
	busy bool
	stop context.CancelFunc
}

func newSettingsPane(w *window) *settingsPane {
	p := &settingsPane{w: w}

	p.host = widget.NewEntry()
	p.host.OnChanged = func(string) { p.fieldsChanged() }
	p.defaults = widget.NewButton("Use iCloud defaults", p.useICloudDefaults)
	p.port = widget.NewEntry()
	p.port.OnChanged = func(s string) { showError(p.portErr, portError(s)) }
	p.portErr = errorLabel()
	p.security = widget.NewRadioGroup([]string{choiceStartTLS, choiceSSL}, func(choice string) {
		switch choice {
		case choiceStartTLS:
			p.port.SetText(strconv.Itoa(mailer.StartTLSPort))
		case choiceSSL:
			p.port.SetText(strconv.Itoa(mailer.ImplicitTLSPort))
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
	p.from.OnChanged = func(s string) { showError(p.fromErr, fromError(s)) }
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

	p.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), p.Save)
	p.save.Importance = widget.HighImportance
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
		fieldLabel("Password"), container.NewVBox(container.NewBorder(nil, nil, nil, p.createPassword, p.password), p.passwordNote),
		fieldLabel("Keychain"), container.NewVBox(p.keychain, container.NewHBox(p.forget, p.sessionOnly)),
	)
	buttons := container.NewHBox(p.save, p.test, p.testEmail, layout.NewSpacer(), p.activity, p.cancel)
	// The form scrolls; the buttons and what they report stay in view.
	fields := container.NewVScroll(container.NewPadded(container.NewVBox(heading("Server and account"), intro, form)))
	results := container.NewPadded(container.NewVBox(buttons, p.status, p.failure.box, p.checklist.box))
	p.content = container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), results), nil, nil, fields)

	p.showAccount(w.account)
	p.showKeychain()
	return p
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
	if a.Security == mailer.ImplicitTLS {
		p.security.SetSelected(choiceSSL)
	} else {
		p.security.SetSelected(choiceStartTLS)
	}
	// After the choice, which sets the port of its own.
	p.port.SetText(strconv.Itoa(a.Port))
	p.username.SetText(a.Username)
	p.from.SetText(a.From)
	p.displayName.SetText(a.DisplayName)
}

func (p *settingsPane) useICloudDefaults() {
	d := mailer.DefaultAccount()
	p.host.SetText(d.Host)
	p.security.SetSelected(choiceStartTLS)
	p.port.SetText(strconv.Itoa(d.Port))
}

// settings is what the fields hold now.
func (p *settingsPane) settings() Settings {
	port, _ := strconv.Atoi(strings.TrimSpace(p.port.Text))
	sec := mailer.StartTLS
	if p.security.Selected == choiceSSL {
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
		},
		Password: p.password.Text,
	}
	s.UseStored = s.Password == "" && (p.w.keychainState == passwordStored || p.w.sessionPassword != "")
	return s
}

// fieldsChanged re-checks what depends on the host, the username and the
// password as they are typed.
func (p *settingsPane) fieldsChanged() {
	s := p.settings()
	showError(p.usernameErr, usernameError(s.Account))
	note := s.PasswordNote()
	p.passwordNote.SetText(note)
	setVisible(p.passwordNote, note != "")
}

// showKeychain says whether a password is stored, and offers what fits.
func (p *settingsPane) showKeychain() {
	w := p.w
	p.forget.Hide()
	p.sessionOnly.Hide()
	p.keychain.Importance = widget.MediumImportance
	switch {
	case w.sessionPassword != "":
		p.keychain.SetText("The password is kept for this session only; Postcard forgets it when it closes.")
		p.forget.Show()
	case w.keychainState == passwordStored:
		p.keychain.SetText("Password stored in the keychain.")
		p.password.SetPlaceHolder("Stored in the keychain; type a new one to replace it")
		p.forget.Show()
	case w.keychainState == passwordUnavailable:
		msg := "The keychain is not available or is locked."
		var e *mailer.Error
		if errors.As(w.keychainErr, &e) && e.Detail != "" {
			msg = sentence(e.Detail) // says the same, with the cause
		}
		msg += " Postcard cannot store the password there."
		p.keychain.SetText(msg)
		p.keychain.Importance = widget.WarningImportance
		p.sessionOnly.Show()
	case w.keychainState == passwordUnknown && w.hasAccount:
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
	p.busy = true
	p.stop = cancel
	p.failure.Hide()
	say(p.status, widget.MediumImportance, status)
	p.activity.Show()
	p.activity.Start()
	for _, b := range []*widget.Button{p.save, p.test, p.testEmail, p.forget, p.sessionOnly} {
		b.Disable()
	}
	p.cancel.Enable()
	p.cancel.Show()
	return ctx
}

// end marks the end of the background operation.
func (p *settingsPane) end() {
	p.busy = false
	p.stop = nil
	p.activity.Stop()
	p.activity.Hide()
	p.cancel.Hide()
	for _, b := range []*widget.Button{p.save, p.test, p.testEmail, p.forget, p.sessionOnly} {
		b.Enable()
	}
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
	case p.w.sessionPassword != "":
		return fromSession
	}
	return fromKeychain
}

// passwordFor returns s's password; it reads the keychain, so it runs in
// the background.
func passwordFor(ctx context.Context, secrets Secrets, src passwordSource, s Settings, session, storedUser string) (string, error) {
	switch src {
	case fromTyped:
		return s.Password, nil
	case fromSession:
		return session, nil
	}
	return secrets.Get(ctx, storedUser)
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
		fyne.Do(func() {
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
	if p.busy {
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
		p.store(s)
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
	p.runCheck(s, "Testing the connection to "+s.Account.Host+"…", func(err error) {
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

// runCheck signs in with s in the background and calls done with the
// outcome on the UI goroutine.
func (p *settingsPane) runCheck(s Settings, status string, done func(error)) {
	src := p.source(s)
	session, storedUser := p.w.sessionPassword, p.w.account.Username
	secrets, m := p.w.d.Secrets, p.w.d.Mailer
	ctx := p.begin(status)
	progress := p.progress(s.Account, true)
	go func() {
		var stages []mailer.StageResult
		pw, err := passwordFor(ctx, secrets, src, s, session, storedUser)
		if err == nil {
			stages, err = m.Check(ctx, s.Account, pw, progress)
		}
		fyne.Do(func() {
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
	p.store(s)
}

// store puts the password in the keychain (moving it when the username
// changed) and writes the account file, in the background.
func (p *settingsPane) store(s Settings) {
	old, hadAccount := p.w.account, p.w.hasAccount
	src := p.source(s)
	hadStored := p.w.keychainState == passwordStored
	secrets, dir := p.w.d.Secrets, p.w.d.ConfigDir
	ctx := p.begin("Saving…")
	go func() {
		oldUser := ""
		if hadAccount && old.Username != s.Account.Username {
			oldUser = old.Username
		}
		var kerr error
		switch {
		case src == fromTyped:
			kerr = secrets.Set(ctx, s.Account.Username, s.Password)
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
		fyne.Do(func() {
			p.end()
			p.stored(s, src, kerr, ferr)
			p.w.note(eventSave)
		})
	}()
}

// stored shows how store went and updates the window's account.
func (p *settingsPane) stored(s Settings, src passwordSource, kerr, ferr error) {
	if mailer.KindOf(kerr) == mailer.KindCancelled {
		p.failed("Not saved", kerr, false)
		return
	}
	if ferr != nil {
		p.failed("Not saved", ferr, false)
		return
	}
	p.w.setAccount(s.Account)
	switch {
	case kerr == nil && src == fromTyped:
		p.w.keychainState, p.w.keychainErr = passwordStored, nil
		p.w.sessionPassword = ""
		p.password.SetText("")
	case kerr == nil:
		// Nothing new to store: the stored or session password stays.
	case errors.Is(kerr, mailer.ErrKeychainUnavailable) || errors.Is(kerr, mailer.ErrKeychainTimeout):
		p.w.keychainState, p.w.keychainErr = passwordUnavailable, kerr
	default:
		p.showKeychain()
		p.failed("Password not stored", kerr, false)
		return
	}
	p.showKeychain()
	if p.w.keychainState == passwordUnavailable && p.w.sessionPassword == "" {
		say(p.status, widget.WarningImportance, "The account is saved, but the keychain could not store the password. Use it for this session only, or fix the keychain and save again.")
		return
	}
	say(p.status, widget.SuccessImportance, "Saved. Postcard sends as "+s.Account.FromAddress()+".")
}

// SendTestEmail sends a short message to the account's own address with the
// settings as they are typed, as the guide's last setup step.
func (p *settingsPane) SendTestEmail() {
	s, ok := p.ready("Not sent")
	if !ok {
		return
	}
	src := p.source(s)
	session, storedUser := p.w.sessionPassword, p.w.account.Username
	secrets, m := p.w.d.Secrets, p.w.d.Mailer
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
		pw, err := passwordFor(ctx, secrets, src, s, session, storedUser)
		if err == nil {
			_, err = m.Send(ctx, s.Account, pw, msg, progress)
		}
		fyne.Do(func() {
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
	if p.busy {
		return
	}
	user := p.w.account.Username
	if p.w.sessionPassword != "" || user == "" || p.w.keychainState != passwordStored {
		p.w.sessionPassword = ""
		p.showKeychain()
		say(p.status, widget.MediumImportance, "The password is forgotten.")
		return
	}
	secrets := p.w.d.Secrets
	ctx := p.begin("Removing the password from the keychain…")
	go func() {
		err := secrets.Delete(ctx, user)
		fyne.Do(func() {
			p.end()
			if err != nil && !errors.Is(err, mailer.ErrPasswordNotFound) {
				p.failed("Not removed", err, false)
			} else {
				p.w.keychainState, p.w.keychainErr = passwordMissing, nil
				p.showKeychain()
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
	p.w.sessionPassword = s.Password
	p.w.setAccount(s.Account)
	p.password.SetText("")
	p.showKeychain()
	say(p.status, widget.SuccessImportance, "Postcard will use this password until it closes.")
}

// checklist shows the stages of a login, each ticked or crossed, with the
// hint under the one that failed.
type checklist struct {
	box  *fyne.Container
	rows []*checkRow
}

// checkRow is one line of the checklist; state is what its icon shows.
type checkRow struct {
	stages []mailer.Stage // the session stages this row stands for
	name   string
	state  rowState
	icon   *widget.Icon
	label  *widget.Label
	hint   *widget.Label
}

type rowState int

const (
	rowPending rowState = iota
	rowOK
	rowFailed
	rowNotTried
)

func newChecklist() *checklist {
	c := &checklist{box: container.NewVBox(heading("Connection test"))}
	for _, r := range []*checkRow{
		{stages: []mailer.Stage{mailer.StageResolve}},
		// The greeting belongs to connecting, as the user sees it.
		{stages: []mailer.Stage{mailer.StageConnect, mailer.StageGreeting}},
		{stages: []mailer.Stage{mailer.StageTLS}},
		{stages: []mailer.Stage{mailer.StageLogin}},
	} {
		r.icon = widget.NewIcon(theme.RadioButtonIcon())
		r.label = widget.NewLabel("")
		r.hint = widget.NewLabel("")
		r.hint.Wrapping = fyne.TextWrapWord
		r.hint.Hide()
		c.rows = append(c.rows, r)
		// The icon sits beside the stage's name, not halfway down its hint.
		c.box.Add(container.NewBorder(nil, nil, container.NewVBox(container.NewPadded(r.icon)), nil, container.NewVBox(r.label, r.hint)))
	}
	c.box.Hide()
	return c
}

// reset shows every stage as pending for a check of a.
func (c *checklist) reset(a mailer.Account) {
	enc := "STARTTLS"
	if a.Security == mailer.ImplicitTLS {
		enc = "SSL/TLS"
	}
	names := []string{
		"Look up " + a.Host,
		fmt.Sprintf("Connect to port %d", a.Port),
		"Secure the connection (" + enc + ")",
		"Sign in as " + a.Username,
	}
	for i, r := range c.rows {
		r.name = names[i]
		r.label.SetText(r.name)
		r.hint.Hide()
		r.set(rowPending)
	}
	c.box.Show()
}

func (c *checklist) row(st mailer.Stage) *checkRow {
	for _, r := range c.rows {
		for _, s := range r.stages {
			if s == st {
				return r
			}
		}
	}
	return nil
}

func (c *checklist) hasRow(st mailer.Stage) bool { return c.row(st) != nil }

func (c *checklist) rowName(st mailer.Stage) string {
	if r := c.row(st); r != nil {
		return r.name
	}
	return string(st)
}

// mark ticks the row of a stage that went well; failures wait for finish,
// which has the whole error.
func (c *checklist) mark(res mailer.StageResult) {
	r := c.row(res.Stage)
	if r == nil || !res.OK || r.state == rowFailed {
		return
	}
	r.set(rowOK)
	// The address, the TLS version: worth seeing. The greeting and "logged
	// in" are not.
	if res.Detail != "" && res.Stage != mailer.StageGreeting && res.Stage != mailer.StageLogin {
		r.label.SetText(r.name + ": " + res.Detail)
	}
}

// finish ticks the stages a check went through, crosses the one that
// failed with the hint under it, and marks the rows after it as not tried.
func (c *checklist) finish(stages []mailer.StageResult, err error) {
	for _, st := range stages {
		c.mark(st)
	}
	var e *mailer.Error
	failedRow := (*checkRow)(nil)
	if errors.As(err, &e) {
		failedRow = c.row(e.Stage)
	}
	after := false
	for _, r := range c.rows {
		switch {
		case after:
			r.set(rowNotTried)
		case r == failedRow:
			r.set(rowFailed)
			r.hint.SetText(stageHint(e))
			r.hint.Show()
			after = true
		case r.state == rowPending && err == nil:
			// Check returned no error: every stage passed.
			r.set(rowOK)
		case r.state == rowPending:
			r.set(rowNotTried)
		}
	}
}

// stageHint is what went wrong at a stage and what to do about it.
func stageHint(e *mailer.Error) string {
	switch {
	case e.Detail != "":
		return sentence(e.Detail) + " " + e.Hint()
	case e.Reply != nil:
		return "The server said: " + e.Reply.String() + ". " + e.Hint()
	}
	return e.Hint()
}

func (r *checkRow) set(s rowState) {
	r.state = s
	switch s {
	case rowOK:
		r.icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		r.label.Importance = widget.MediumImportance
	case rowFailed:
		r.icon.SetResource(theme.NewErrorThemedResource(theme.CancelIcon()))
		r.label.Importance = widget.DangerImportance
	case rowNotTried:
		r.icon.SetResource(theme.NewDisabledResource(theme.RadioButtonIcon()))
		r.label.Importance = widget.MediumImportance
		r.label.Text = r.name + " (not tried)"
	default:
		r.icon.SetResource(theme.RadioButtonIcon())
		r.label.Importance = widget.MediumImportance
	}
	r.label.Refresh()
}
