package mailer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// The password goes only to the servers it was saved for: an account file
// that names another server (changed by someone else) gets "sign in
// again", never the password.
func TestKeychain_SetForGetFor(t *testing.T) {
	ctx := context.Background()
	icloud := DefaultAccount()
	icloud.Username = "ann@icloud.com"
	own := Account{Host: "mail.example.org", Port: 587, Security: StartTLS, Username: "ann@example.org", IMAPHost: "imap.example.org"}
	with := func(a Account, f func(*Account)) Account { f(&a); return a }

	tests := []struct {
		name   string
		stored func(k Keychain) error
		get    Account
		ok     bool
	}{
		{"same account", func(k Keychain) error { return k.SetFor(ctx, icloud, kcPassword) }, icloud, true},
		{"host changed", func(k Keychain) error { return k.SetFor(ctx, icloud, kcPassword) },
			with(icloud, func(a *Account) { a.Host = "smtp.evil.example" }), false},
		{"IMAP host changed", func(k Keychain) error { return k.SetFor(ctx, own, kcPassword) },
			with(own, func(a *Account) { a.IMAPHost = "imap.evil.example" }), false},
		{"contacts server added", func(k Keychain) error { return k.SetFor(ctx, own, kcPassword) },
			with(own, func(a *Account) { a.ContactsURL = "https://dav.evil.example/" }), false},
		{"fewer servers", func(k Keychain) error { return k.SetFor(ctx, own, kcPassword) },
			with(own, func(a *Account) { a.NoSentCopy = true }), true},
		{"host in other case, trailing dot", func(k Keychain) error { return k.SetFor(ctx, own, kcPassword) },
			with(own, func(a *Account) { a.Host = "Mail.Example.org." }), true},
		{"stored bare, iCloud", func(k Keychain) error { return k.Set(ctx, icloud.Username, kcPassword) }, icloud, true},
		{"stored bare, own server", func(k Keychain) error { return k.Set(ctx, own.Username, kcPassword) }, own, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := Keychain{Store: newKcMapStore()}
			if err := tt.stored(k); err != nil {
				t.Fatal(err)
			}
			pw, err := k.GetFor(ctx, tt.get)
			if tt.ok {
				if err != nil || pw != kcPassword {
					t.Fatalf("GetFor = %q, %v; want the password", pw, err)
				}
				return
			}
			if !errors.Is(err, ErrPasswordOtherServer) || !errors.Is(err, ErrPasswordNotFound) || pw != "" {
				t.Fatalf("GetFor = %q, %v; want ErrPasswordOtherServer and ErrPasswordNotFound", pw, err)
			}
			kcAsError(t, err, KindKeychain, StageKeychain)
		})
	}

	t.Run("Get and Move see the bare password and keep the servers", func(t *testing.T) {
		s := newKcMapStore()
		k := Keychain{Store: s}
		if err := k.SetFor(ctx, own, kcPassword); err != nil {
			t.Fatal(err)
		}
		if pw, err := k.Get(ctx, own.Username); err != nil || pw != kcPassword {
			t.Fatalf("Get = %q, %v", pw, err)
		}
		if err := k.Move(ctx, own.Username, "bob@example.org"); err != nil {
			t.Fatal(err)
		}
		moved := with(own, func(a *Account) { a.Username = "bob@example.org" })
		if pw, err := k.GetFor(ctx, moved); err != nil || pw != kcPassword {
			t.Fatalf("GetFor after Move = %q, %v", pw, err)
		}
		if _, err := k.GetFor(ctx, with(moved, func(a *Account) { a.Host = "smtp.evil.example" })); !errors.Is(err, ErrPasswordOtherServer) {
			t.Fatalf("the servers did not move with the password: %v", err)
		}
	})
}

// With no D-Bus session, the OS keychain says so without calling
// dbus-launch, which would leave a dbus-daemon and a gnome-keyring-daemon
// running after every command.
func TestKeychain_NoSessionBus(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service over D-Bus is Linux's keychain")
	}
	run := filepath.Join("/run/user", strconv.Itoa(os.Getuid()))
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(run, name)); err == nil {
			t.Skipf("%s exists: this session has a bus without the variable", filepath.Join(run, name))
		}
	}
	bin := t.TempDir()
	marker := filepath.Join(bin, "launched")
	script := "#!/bin/sh\ntouch " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")

	for _, op := range kcOps {
		err := op.run(context.Background(), Keychain{})
		if !errors.Is(err, ErrKeychainUnavailable) || !strings.Contains(err.Error(), "no keychain (no D-Bus session)") {
			t.Errorf("%s = %v, want no keychain (no D-Bus session)", op.name, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("dbus-launch was run")
	}
}

func TestAccount_PasswordHosts(t *testing.T) {
	a := DefaultAccount()
	a.Username = "ann@icloud.com"
	if got := strings.Join(a.PasswordHosts(), " "); got != "contacts.icloud.com imap.mail.me.com smtp.mail.me.com" {
		t.Errorf("iCloud: %s", got)
	}
	a.NoSentCopy, a.NoContacts = true, true
	if got := strings.Join(a.PasswordHosts(), " "); got != "smtp.mail.me.com" {
		t.Errorf("iCloud without copy and contacts: %s", got)
	}
	b := Account{Host: "Mail.Example.ORG.", IMAPHost: "imap.example.org", ContactsURL: "https://dav.example.org:8443/card/"}
	if got := strings.Join(b.PasswordHosts(), " "); got != "dav.example.org imap.example.org mail.example.org" {
		t.Errorf("own server: %s", got)
	}
}
