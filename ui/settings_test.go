package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/postcard-mail/postcard/mailer"
)

var authErr = &mailer.Error{Kind: mailer.KindAuth, Stage: mailer.StageLogin,
	Reply: &mailer.Reply{Code: 535, Enhanced: "5.7.8", Text: "Error: authentication failed"}}

func TestSettings_OpensFirstWithoutAccount(t *testing.T) {
	h := newHarness(t, setup{})
	p := h.w.settings
	if h.w.tabs.Selected() != h.w.settingsItem {
		t.Fatal("without an account the window should open on Settings")
	}
	if h.w.win.Canvas().Focused() != p.username {
		t.Errorf("focus on %T, want the username", h.w.win.Canvas().Focused())
	}
	if p.host.Text != mailer.ICloudHost || p.port.Text != "587" || p.security.Selected != mailer.StartTLS.Choice() {
		t.Errorf("defaults: %s %s %s", p.host.Text, p.port.Text, p.security.Selected)
	}
	if p.keychain.Text != "No password stored." {
		t.Errorf("keychain status %q", p.keychain.Text)
	}
}

func TestSettings_PortChoiceAndDefaults(t *testing.T) {
	h := newHarness(t, setup{})
	p := h.w.settings
	p.security.SetSelected(mailer.ImplicitTLS.Choice())
	if p.port.Text != "465" || p.settings().Account.Security != mailer.ImplicitTLS {
		t.Fatalf("465 choice gave port %s, %s", p.port.Text, p.settings().Account.Security)
	}
	p.host.SetText("mail.example.org")
	p.port.SetText("2465")
	if a := p.settings().Account; a.Host != "mail.example.org" || a.Port != 2465 || a.Security != mailer.ImplicitTLS {
		t.Fatalf("custom server: %+v", a)
	}
	p.port.SetText("99999")
	if !p.portErr.Visible() {
		t.Error("a port over 65535 should be marked")
	}
	test.Tap(p.defaults)
	if a := p.settings().Account; a.Host != mailer.ICloudHost || a.Port != 587 || a.Security != mailer.StartTLS {
		t.Fatalf("iCloud defaults: %+v", a)
	}
	if p.portErr.Visible() {
		t.Error("port error still shown")
	}
}

func TestSettings_UsernameCheckedAsTyped(t *testing.T) {
	h := newHarness(t, setup{})
	p := h.w.settings
	test.Type(p.username, "me")
	if !p.usernameErr.Visible() || !strings.Contains(p.usernameErr.Text, "full email address") {
		t.Fatalf("username error %q", p.usernameErr.Text)
	}
	test.Type(p.username, "@icloud.com")
	if p.usernameErr.Visible() {
		t.Fatalf("error %q for a full address", p.usernameErr.Text)
	}
	// Other servers may use plain usernames.
	p.username.SetText("me")
	p.host.SetText("mail.example.org")
	if p.usernameErr.Visible() {
		t.Error("a plain username is fine off iCloud")
	}
	test.Type(p.from, "alias@")
	if !p.fromErr.Visible() {
		t.Error("a bad From should be marked")
	}
}

func TestSettings_PasswordNote(t *testing.T) {
	for _, tc := range []struct {
		host, password string
		note           bool
	}{
		{mailer.ICloudHost, "abcd-efgh-ijkl-mnop", false},
		{mailer.ICloudHost, "Summer2026!", true},
		{mailer.ICloudHost, "ABCD-EFGH-IJKL-MNOP", true},
		{mailer.ICloudHost, "abcd-efgh-ijkl-mno", true},
		{mailer.ICloudHost, "", false},
		{"mail.example.org", "Summer2026!", false},
	} {
		t.Run(tc.host+"/"+tc.password, func(t *testing.T) {
			h := newHarness(t, setup{})
			p := h.w.settings
			p.host.SetText(tc.host)
			test.Type(p.password, tc.password)
			if p.passwordNote.Visible() != tc.note {
				t.Fatalf("note shown %v, want %v (%q)", p.passwordNote.Visible(), tc.note, p.passwordNote.Text)
			}
			if tc.note && !strings.Contains(p.passwordNote.Text, "This looks like an Apple ID password; iCloud needs an app-specific password") {
				t.Errorf("note %q", p.passwordNote.Text)
			}
		})
	}
}

func TestSettings_CreatePasswordOpensAppleID(t *testing.T) {
	h := newHarness(t, setup{})
	test.Tap(h.w.settings.createPassword)
	if got := h.openedURLs(); len(got) != 1 || got[0] != appleIDURL {
		t.Fatalf("opened %q", got)
	}
}

// fillNew types a new account into the settings pane.
func fillNew(h *harness) {
	p := h.w.settings
	test.Type(p.username, testUser)
	test.Type(p.displayName, "Me Myself")
	test.Type(p.password, testPassword)
}

func TestSettings_SaveVerifiesThenStores(t *testing.T) {
	h := newHarness(t, setup{})
	p := h.w.settings
	fillNew(h)
	test.Tap(p.save)
	h.wait(eventSave)

	checks := h.mailer.Checks()
	if len(checks) != 1 || checks[0].Password != testPassword || checks[0].Account.Username != testUser {
		t.Fatalf("checks %+v", checks)
	}
	if got := h.secrets.Stored(); got[testUser] != testPassword || len(got) != 1 {
		t.Errorf("keychain %v", got)
	}
	saved, err := mailer.LoadAccount(h.dir)
	if err != nil || saved.Username != testUser || saved.DisplayName != "Me Myself" || saved.Port != 587 {
		t.Errorf("account file %+v, %v", saved, err)
	}
	if p.keychain.Text != "Password stored in the keychain." || !p.forget.Visible() {
		t.Errorf("keychain status %q", p.keychain.Text)
	}
	if p.password.Text != "" {
		t.Error("the password should leave the field once stored")
	}
	if !strings.HasPrefix(p.status.Text, "Saved.") {
		t.Errorf("status %q", p.status.Text)
	}
	if h.w.compose.from.Selected != "Me Myself <"+testUser+">" {
		t.Errorf("compose From %q", h.w.compose.from.Selected)
	}
}

func TestSettings_SaveFailureStoresNothingThenSaveAnyway(t *testing.T) {
	h := newHarness(t, setup{mailer: &fakeMailer{checkErrs: []error{authErr}}})
	p := h.w.settings
	fillNew(h)
	test.Tap(p.save)
	h.wait(eventCheck)

	if got := h.secrets.Stored(); len(got) != 0 {
		t.Fatalf("stored %v after a failed login", got)
	}
	if _, err := mailer.LoadAccount(h.dir); !errors.Is(err, mailer.ErrNoAccount) {
		t.Fatalf("account file written after a failed login: %v", err)
	}
	if !p.failure.box.Visible() || !strings.HasSuffix(p.failure.hint.Text, mailer.HintFor(mailer.KindAuth).Text) {
		t.Fatalf("hint %q", p.failure.hint.Text)
	}
	if !p.saveAnyway.Visible() || !p.failureCreatePassword.Visible() {
		t.Fatal("Save anyway and the Apple ID button should be offered")
	}

	test.Tap(p.saveAnyway)
	h.wait(eventSave)
	if got := h.secrets.Stored(); got[testUser] != testPassword {
		t.Errorf("keychain %v after Save anyway", got)
	}
	if a, err := mailer.LoadAccount(h.dir); err != nil || a.Username != testUser {
		t.Errorf("account %+v, %v", a, err)
	}
	if len(h.mailer.Checks()) != 1 {
		t.Error("Save anyway should not sign in again")
	}
}

func TestSettings_SaveCancel(t *testing.T) {
	started := make(chan struct{})
	m := &fakeMailer{checkHook: func(ctx context.Context, _ func(mailer.StageResult)) error {
		close(started)
		<-ctx.Done()
		return &mailer.Error{Kind: mailer.KindCancelled, Stage: mailer.StageConnect, Err: ctx.Err()}
	}}
	h := newHarness(t, setup{mailer: m})
	p := h.w.settings
	fillNew(h)
	test.Tap(p.save)
	<-started
	if !p.cancel.Visible() || !p.save.Disabled() {
		t.Error("while saving, Cancel should show and Save be disabled")
	}
	test.Tap(p.save) // ignored
	test.Tap(p.cancel)
	h.wait(eventCheck)
	if len(h.secrets.Stored()) != 0 || len(h.mailer.Checks()) != 1 {
		t.Fatal("a cancelled save stored something or checked twice")
	}
	if !strings.Contains(p.status.Text, "Cancelled") || p.failure.box.Visible() {
		t.Errorf("status %q", p.status.Text)
	}
}

func TestSettings_UsernameChangeMovesPassword(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.settings
	h.w.showSettings(nil)
	if !p.settings().UseStored {
		t.Fatal("with a stored password an empty field should use it")
	}
	p.username.SetText("new@icloud.com")
	test.Tap(p.save)
	h.wait(eventSave)
	if c := h.mailer.Checks(); len(c) != 1 || c[0].Password != testPassword || c[0].Account.Username != "new@icloud.com" {
		t.Fatalf("checks %+v", c)
	}
	if got := h.secrets.Stored(); got["new@icloud.com"] != testPassword || len(got) != 1 {
		t.Errorf("keychain %v, want the password moved", got)
	}
	if a, _ := mailer.LoadAccount(h.dir); a.Username != "new@icloud.com" {
		t.Errorf("account username %q", a.Username)
	}
}

func TestSettings_NewPasswordReplacesOldEntry(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.settings
	p.username.SetText("new@icloud.com")
	test.Type(p.password, "wxyz-wxyz-wxyz-wxyz")
	test.Tap(p.save)
	h.wait(eventSave)
	if got := h.secrets.Stored(); got["new@icloud.com"] != "wxyz-wxyz-wxyz-wxyz" || len(got) != 1 {
		t.Errorf("keychain %v", got)
	}
}

func TestSettings_TestConnectionChecklist(t *testing.T) {
	tlsErr := &mailer.Error{Kind: mailer.KindTLSMode, Stage: mailer.StageGreeting,
		Detail: "connected, but the server on port 465 sent no greeting; it expects SSL/TLS from the start"}
	m := &fakeMailer{
		checkErrs: []error{nil, tlsErr},
		checkHook: func(ctx context.Context, progress func(mailer.StageResult)) error {
			progress(mailer.StageResult{Stage: mailer.StageResolve, OK: true, Detail: "17.42.251.41"})
			progress(mailer.StageResult{Stage: mailer.StageConnect, OK: true, Detail: "17.42.251.41:465"})
			return nil
		},
	}
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword, mailer: m})
	p := h.w.settings

	test.Tap(p.test)
	h.wait(eventCheck)
	for i, r := range p.checklist.rows {
		if r.state != rowOK {
			t.Errorf("row %d (%s) state %v after a good check, want ticked", i, r.name, r.state)
		}
	}
	if !strings.Contains(p.checklist.rows[0].label.Text, "17.42.251.41") {
		t.Errorf("resolve row %q lacks the address", p.checklist.rows[0].label.Text)
	}
	if !strings.Contains(p.status.Text, "works") {
		t.Errorf("status %q", p.status.Text)
	}

	test.Tap(p.test)
	h.wait(eventCheck)
	want := []rowState{rowOK, rowFailed, rowNotTried, rowNotTried}
	for i, r := range p.checklist.rows {
		if r.state != want[i] {
			t.Errorf("row %d (%s) state %v, want %v", i, r.name, r.state, want[i])
		}
	}
	connect := p.checklist.rows[1]
	if !connect.hint.Visible() || !strings.Contains(connect.hint.Text, mailer.HintFor(mailer.KindTLSMode).Text) {
		t.Errorf("hint under the failed stage: %q", connect.hint.Text)
	}
	if p.checklist.rows[2].hint.Visible() {
		t.Error("hint under a stage that was not tried")
	}
	if len(h.secrets.Stored()) != 1 {
		t.Error("Test connection must not change the keychain")
	}
}

func TestSettings_SendTestEmail(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.settings
	test.Tap(p.testEmail)
	h.wait(eventTestEmail)
	s := h.mailer.Sends()
	if len(s) != 1 || len(s[0].To) != 1 || s[0].To[0] != testUser || s[0].Password != testPassword {
		t.Fatalf("sends %+v", s)
	}
	if !strings.Contains(p.status.Text, "Test email sent to "+testUser) {
		t.Errorf("status %q", p.status.Text)
	}
}

func TestSettings_Forget(t *testing.T) {
	h := newHarness(t, setup{account: icloudAccount(), password: testPassword})
	p := h.w.settings
	if p.keychain.Text != "Password stored in the keychain." || !p.forget.Visible() {
		t.Fatalf("keychain status %q", p.keychain.Text)
	}
	test.Tap(p.forget)
	h.wait(eventForget)
	if len(h.secrets.Stored()) != 0 {
		t.Fatal("password still stored")
	}
	if p.keychain.Text != "No password stored." || p.forget.Visible() {
		t.Errorf("keychain status %q", p.keychain.Text)
	}
}

func TestSettings_KeychainUnavailableSessionOnly(t *testing.T) {
	unavailable := &mailer.Error{Kind: mailer.KindKeychain, Stage: mailer.StageKeychain,
		Detail: "no keychain is available or it is locked", Err: mailer.ErrKeychainUnavailable}
	secrets := newFakeSecrets()
	secrets.getErr = unavailable
	secrets.setErr = unavailable
	h := newHarness(t, setup{account: icloudAccount(), secrets: secrets})
	p := h.w.settings
	if h.w.tabs.Selected() != h.w.settingsItem {
		t.Fatal("with no keychain the window should open the settings")
	}
	if !strings.Contains(p.keychain.Text, "cannot store the password") || !p.sessionOnly.Visible() {
		t.Fatalf("keychain status %q, session-only shown %v", p.keychain.Text, p.sessionOnly.Visible())
	}

	// Save signs in, writes the account, and says the keychain failed.
	test.Type(p.password, testPassword)
	test.Tap(p.save)
	h.wait(eventSave)
	if !strings.Contains(p.status.Text, "could not store the password") || !p.sessionOnly.Visible() {
		t.Fatalf("status %q", p.status.Text)
	}

	test.Tap(p.sessionOnly)
	if h.w.acct.sessionPassword() != testPassword || p.password.Text != "" {
		t.Fatal("password not kept for the session")
	}
	if !strings.Contains(p.keychain.Text, "session only") {
		t.Errorf("keychain status %q", p.keychain.Text)
	}

	// The compose pane sends with it without asking the keychain.
	gets := secrets.Gets()
	h.w.showCompose()
	h.typeDraft(Draft{To: "a@example.com", Subject: "s", Body: "b"})
	h.sendAndWait()
	if s := h.mailer.Sends(); len(s) != 1 || s[0].Password != testPassword {
		t.Fatalf("sends %+v", s)
	}
	if secrets.Gets() != gets {
		t.Error("the keychain was asked although the session holds the password")
	}
}

func TestSettings_KeychainTimeoutCountsAsUnavailable(t *testing.T) {
	secrets := newFakeSecrets()
	secrets.getErr = &mailer.Error{Kind: mailer.KindKeychain, Stage: mailer.StageKeychain, Err: mailer.ErrKeychainTimeout}
	h := newHarness(t, setup{account: icloudAccount(), secrets: secrets})
	if !h.w.settings.sessionOnly.Visible() {
		t.Fatal("a keychain that does not answer should offer the session-only password")
	}
}

func TestSettings_Validate(t *testing.T) {
	good := Settings{Account: *icloudAccount(), Password: testPassword}
	for _, tc := range []struct {
		name string
		s    func(Settings) Settings
		ok   bool
	}{
		{"good", func(s Settings) Settings { return s }, true},
		{"stored password", func(s Settings) Settings { s.Password, s.UseStored = "", true; return s }, true},
		{"no password", func(s Settings) Settings { s.Password = ""; return s }, false},
		{"short username", func(s Settings) Settings { s.Account.Username = "me"; return s }, false},
		{"no host", func(s Settings) Settings { s.Account.Host = ""; return s }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s(good).Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v", err)
			}
			if err != nil && mailer.KindOf(err) != mailer.KindInvalidAccount {
				t.Errorf("kind %s", mailer.KindOf(err))
			}
		})
	}
}
