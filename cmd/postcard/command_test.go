package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/ui"
)

// memStore is a keychain in memory.
type memStore struct {
	mu    sync.Mutex
	m     map[string]string
	calls int
}

func (s *memStore) Get(service, user string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	pw, ok := s.m[service+"/"+user]
	if !ok {
		return "", mailer.ErrPasswordNotFound
	}
	return pw, nil
}

func (s *memStore) Set(service, user, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.m[service+"/"+user] = password
	return nil
}

func (s *memStore) Delete(service, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if _, ok := s.m[service+"/"+user]; !ok {
		return mailer.ErrPasswordNotFound
	}
	delete(s.m, service+"/"+user)
	return nil
}

// password is what the keychain holds for user, without the servers it was
// saved for.
func (s *memStore) password(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.m["postcard/"+user]
	if strings.HasPrefix(v, "postcard-password:1 ") {
		_, v, _ = strings.Cut(v, "\n")
	}
	return v
}

// testCommand is a command with an in-memory keychain, a private config
// folder and no terminal.
type testCommand struct {
	*command
	store          *memStore
	dir, dataDir   string
	stdout, stderr *bytes.Buffer
	windows        int
}

func newTestCommand(t *testing.T) *testCommand {
	t.Helper()
	tc := &testCommand{
		store:   &memStore{m: map[string]string{}},
		dir:     filepath.Join(t.TempDir(), "postcard"),
		dataDir: filepath.Join(t.TempDir(), "data", "postcard"),
		stdout:  &bytes.Buffer{},
		stderr:  &bytes.Buffer{},
	}
	tc.command = &command{
		stdin:        strings.NewReader(""),
		stdout:       tc.stdout,
		stderr:       tc.stderr,
		stdinIsTerm:  func() bool { return false },
		readPassword: func(context.Context) ([]byte, error) { t.Fatal("readPassword called"); return nil, nil },
		configDir:    func() (string, error) { return tc.dir, nil },
		dataDir:      func() (string, error) { return tc.dataDir, nil },
		keychain:     mailer.Keychain{Store: tc.store},
		openWindow: func(o ui.Options) error {
			tc.windows++
			if o.ConfigDir != tc.dir {
				t.Errorf("window config dir %q, want %q", o.ConfigDir, tc.dir)
			}
			return nil
		},
	}
	return tc
}

func (tc *testCommand) run(stdin string, args ...string) int {
	tc.stdout.Reset()
	tc.stderr.Reset()
	tc.stdin = strings.NewReader(stdin)
	return tc.command.run(context.Background(), args)
}

func (tc *testCommand) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(tc.stdout.Bytes()))
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, tc.stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", tc.stdout)
	}
	return m
}

func TestLogin_NoVerifySavesAccountAndPassword(t *testing.T) {
	tc := newTestCommand(t)
	code := tc.run("s3cret-pw\r\n", "login", "--username", "me@icloud.com", "--password-stdin", "--no-verify")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, tc.stderr)
	}
	a, err := mailer.LoadAccount(tc.dir)
	if err != nil {
		t.Fatal(err)
	}
	want := mailer.DefaultAccount()
	want.Username = "me@icloud.com"
	if !reflect.DeepEqual(a, want) {
		t.Errorf("saved %+v, want %+v", a, want)
	}
	if got := tc.store.password("me@icloud.com"); got != "s3cret-pw" {
		t.Errorf("keychain holds %q, want the password without its line end", got)
	}
	if got := tc.store.m["postcard/me@icloud.com"]; !strings.HasPrefix(got, "postcard-password:1 contacts.icloud.com imap.mail.me.com smtp.mail.me.com\n") {
		t.Errorf("keychain holds %q, want it recorded for iCloud's servers", got)
	}
	if !strings.Contains(tc.stdout.String(), "Saved.") {
		t.Errorf("stdout = %q", tc.stdout)
	}
	if strings.Contains(tc.stdout.String()+tc.stderr.String(), "s3cret") {
		t.Error("the password was printed")
	}
}

func TestLogin_NewUsernameRemovesOldPassword(t *testing.T) {
	tc := newTestCommand(t)
	if code := tc.run("old-pw\n", "login", "--username", "old@icloud.com", "--password-stdin", "--no-verify"); code != 0 {
		t.Fatalf("exit %d\n%s", code, tc.stderr)
	}
	if code := tc.run("new-pw\n", "login", "--username", "new@icloud.com", "--name", "Ann", "--password-stdin", "--no-verify"); code != 0 {
		t.Fatalf("exit %d\n%s", code, tc.stderr)
	}
	if len(tc.store.m) != 1 || tc.store.password("new@icloud.com") != "new-pw" {
		t.Errorf("keychain = %v, want only new-pw for new@icloud.com", tc.store.m)
	}
	a, _ := mailer.LoadAccount(tc.dir)
	if a.Username != "new@icloud.com" || a.DisplayName != "Ann" {
		t.Errorf("saved %+v", a)
	}

	// The saved account prefills the next login.
	if code := tc.run("pw3\n", "login", "--password-stdin", "--no-verify", "--security", "ssl"); code != 0 {
		t.Fatalf("exit %d\n%s", code, tc.stderr)
	}
	a, _ = mailer.LoadAccount(tc.dir)
	if a.Username != "new@icloud.com" || a.DisplayName != "Ann" || a.Port != 465 || a.Security != mailer.ImplicitTLS {
		t.Errorf("saved %+v", a)
	}
}

func TestLogin_UsageErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no terminal and no --password-stdin", "pw\n", []string{"--username", "me@icloud.com"}, "--password-stdin"},
		{"empty stdin", "", []string{"--username", "me@icloud.com", "--password-stdin"}, "no password"},
		{"empty line", "\n", []string{"--username", "me@icloud.com", "--password-stdin"}, "no password"},
		{"no username", "pw\n", []string{"--password-stdin"}, "--username is required"},
		{"password as argument", "", []string{"--password", "pw"}, "never given as an argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTestCommand(t)
			args := append([]string{"login", "--no-verify", "--json"}, tt.args...)
			if code := tc.run(tt.stdin, args...); code != 64 {
				t.Fatalf("exit %d, want 64\n%s%s", code, tc.stdout, tc.stderr)
			}
			m := tc.json(t)
			if m["ok"] != false || m["kind"] != "usage" || !strings.Contains(m["error"].(string), tt.want) {
				t.Errorf("result = %v, want a usage error mentioning %q", m, tt.want)
			}
			if _, err := os.Stat(tc.dir); !os.IsNotExist(err) {
				t.Errorf("config folder created: %v", err)
			}
			if len(tc.store.m) != 0 {
				t.Errorf("keychain = %v, want empty", tc.store.m)
			}
		})
	}
}

func TestLogin_InvalidAccount(t *testing.T) {
	tc := newTestCommand(t)
	code := tc.run("pw\n", "login", "--username", "me", "--password-stdin", "--no-verify")
	if code != 78 {
		t.Fatalf("exit %d, want 78\n%s", code, tc.stderr)
	}
	if !strings.Contains(tc.stderr.String(), "username \"me\" is not a full email address") {
		t.Errorf("stderr = %s", tc.stderr)
	}
	if tc.store.calls != 0 {
		t.Error("the keychain was used")
	}
}

func TestLogout(t *testing.T) {
	tc := newTestCommand(t)
	if code := tc.run("", "logout"); code != 0 || !strings.Contains(tc.stdout.String(), "No account is saved") {
		t.Fatalf("logout without account: exit %d, stdout %q", code, tc.stdout)
	}
	if code := tc.run("pw\n", "login", "--username", "me@icloud.com", "--password-stdin", "--no-verify"); code != 0 {
		t.Fatalf("exit %d\n%s", code, tc.stderr)
	}
	if code := tc.run("", "logout"); code != 0 {
		t.Fatalf("exit %d\n%s", code, tc.stderr)
	}
	if len(tc.store.m) != 0 {
		t.Errorf("keychain = %v after logout", tc.store.m)
	}
	if !strings.Contains(tc.stdout.String(), "Removed the password for me@icloud.com") ||
		!strings.Contains(tc.stdout.String(), "settings stay in") {
		t.Errorf("stdout = %q", tc.stdout)
	}
	if _, err := mailer.LoadAccount(tc.dir); err != nil {
		t.Errorf("account file gone after logout: %v", err)
	}
	if code := tc.run("", "logout"); code != 0 || !strings.Contains(tc.stdout.String(), "no password was stored") &&
		!strings.Contains(tc.stdout.String(), "No password was stored") {
		t.Errorf("second logout: exit %d, stdout %q", code, tc.stdout)
	}

	// With the password gone, check fails on the keychain.
	if code := tc.run("", "check", "--json"); code != 78 {
		t.Fatalf("check after logout: exit %d, want 78\n%s", code, tc.stdout)
	}
	if m := tc.json(t); m["kind"] != "keychain" || m["stage"] != "keychain" {
		t.Errorf("check after logout: %v", m)
	}
}

func TestNoAccount(t *testing.T) {
	for _, args := range [][]string{{"check", "--json"}, {"send", "--json", "--to", "a@example.org"}} {
		tc := newTestCommand(t)
		if code := tc.run("", args...); code != 78 {
			t.Fatalf("%v: exit %d, want 78", args, code)
		}
		m := tc.json(t)
		if m["kind"] != "no-account" || !strings.Contains(m["hint"].(string), "postcard login") {
			t.Errorf("%v: %v", args, m)
		}
	}
}

func TestSend_InvalidMessageBeforeKeychain(t *testing.T) {
	tc := newTestCommand(t)
	if code := tc.run("pw\n", "login", "--username", "me@icloud.com", "--password-stdin", "--no-verify"); code != 0 {
		t.Fatalf("exit %d\n%s", code, tc.stderr)
	}
	tc.store.calls = 0
	missing := filepath.Join(t.TempDir(), "missing.pdf")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing attachment", []string{"--to", "a@example.org", "--attach", missing}, "does not exist"},
		{"folder attachment", []string{"--to", "a@example.org", "--attach", t.TempDir()}, "is a folder"},
		{"missing body file", []string{"--to", "a@example.org", "--body-file", missing}, "body file"},
		{"no recipient", []string{"--subject", "x"}, "no recipients"},
		{"bad address", []string{"--to", "ann@example.org; not an address"}, "not a valid email address"},
		{"header injection", []string{"--to", "a@example.org", "--subject", "x\r\nBcc: evil@example.org"}, "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"send", "--json"}, tt.args...)
			if code := tc.run("", args...); code != 65 {
				t.Fatalf("exit %d, want 65\n%s%s", code, tc.stdout, tc.stderr)
			}
			m := tc.json(t)
			if m["kind"] != "invalid-message" || m["stage"] != "validate" || !strings.Contains(m["error"].(string), tt.want) {
				t.Errorf("result = %v, want invalid-message mentioning %q", m, tt.want)
			}
			if tc.store.calls != 0 {
				t.Error("the keychain was asked before the message was checked")
			}
		})
	}
}

func TestRun_HelpAndUsage(t *testing.T) {
	tc := newTestCommand(t)
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		if code := tc.run("", args...); code != 0 || !strings.Contains(tc.stdout.String(), "postcard send") {
			t.Errorf("%v: exit %d, stdout %q", args, code, tc.stdout)
		}
	}
	for _, cmd := range []string{"login", "check", "send", "logout"} {
		if code := tc.run("", "help", cmd); code != 0 || !strings.Contains(tc.stdout.String(), "Usage: postcard "+cmd) {
			t.Errorf("help %s: exit %d, stdout %q", cmd, code, tc.stdout)
		}
	}
	if code := tc.run("", "frobnicate"); code != 64 || tc.stdout.Len() != 0 ||
		!strings.Contains(tc.stderr.String(), `unknown command "frobnicate"`) ||
		!strings.Contains(tc.stderr.String(), "postcard login") {
		t.Errorf("unknown command: exit %d, stdout %q, stderr %q", code, tc.stdout, tc.stderr)
	}
	if code := tc.run("", "send", "--json", "--nope"); code != 64 {
		t.Errorf("bad flag: exit %d", code)
	} else if m := tc.json(t); m["kind"] != "usage" || m["ok"] != false {
		t.Errorf("bad flag: %v", m)
	}
	if code := tc.run(""); code != 0 || tc.windows != 1 {
		t.Errorf("no arguments: exit %d, %d windows opened", code, tc.windows)
	}
}

func TestLogin_TerminalPrompts(t *testing.T) {
	tc := newTestCommand(t)
	tc.stdinIsTerm = func() bool { return true }
	reads := 0
	tc.readPassword = func(context.Context) ([]byte, error) {
		reads++
		return []byte("typed-pw"), nil
	}
	// The username is typed at its prompt; the password without echo.
	if code := tc.run("me@icloud.com\n", "login", "--no-verify"); code != 0 {
		t.Fatalf("exit %d\n%s", code, tc.stderr)
	}
	if reads != 1 {
		t.Errorf("password read %d times without echo, want 1", reads)
	}
	for _, want := range []string{"iCloud address", "App-specific password for me@icloud.com"} {
		if !strings.Contains(tc.stderr.String(), want) {
			t.Errorf("stderr lacks the prompt %q:\n%s", want, tc.stderr)
		}
	}
	if strings.Contains(tc.stdout.String()+tc.stderr.String(), "typed-pw") {
		t.Error("the password was echoed")
	}
	if got := tc.store.password("me@icloud.com"); got != "typed-pw" {
		t.Errorf("keychain holds %q", got)
	}
}
