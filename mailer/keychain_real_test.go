//go:build linux

package mailer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

// These tests talk to a real Secret Service (gnome-keyring) through
// go-keyring, with Keychain's zero value exactly as the app uses it. They run
// only inside .ci/with-keyring.sh, which gives them a private HOME, a private
// D-Bus session and a throwaway unlocked keyring.

// kcRealKeychain returns the zero Keychain after making sure the keyring on the
// session bus is a private, throwaway one. Once POSTCARD_TEST_KEYRING=1 asks
// for the real keyring, anything short of that fails the test instead of
// skipping it, so a broken CI setup cannot pass silently.
func kcRealKeychain(t *testing.T) Keychain {
	t.Helper()
	if os.Getenv("POSTCARD_TEST_KEYRING") != "1" {
		t.Skip("real keyring test: set POSTCARD_TEST_KEYRING=1 to run it; `make test` runs it against a private gnome-keyring through .ci/with-keyring.sh")
	}
	if os.Getenv("POSTCARD_TEST_HOME_PRIVATE") != "1" {
		t.Fatal("POSTCARD_TEST_KEYRING=1 without POSTCARD_TEST_HOME_PRIVATE=1: refusing to touch what may be your own keyring; run through .ci/with-keyring.sh")
	}
	home := os.Getenv("HOME")
	if !kcIsUnder(home, os.TempDir()) {
		t.Fatalf("HOME=%q is not a private folder under %s: refusing to touch what may be your own keyring; run through .ci/with-keyring.sh", home, os.TempDir())
	}

	// Without an explicit address godbus (and so go-keyring) would find the
	// desktop's bus at /run/user/<uid>/bus, or start one with dbus-launch.
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("DBUS_SESSION_BUS_ADDRESS is not set: no private D-Bus session; run through .ci/with-keyring.sh")
	}
	// HOME is only this process's view. The keyring that answers is the
	// daemon owning org.freedesktop.secrets on the session bus, so check
	// that it, too, lives in the private HOME.
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatalf("no D-Bus session bus: %v", err)
	}
	defer conn.Close()
	var pid uint32
	err = conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, "org.freedesktop.secrets").Store(&pid)
	if err != nil {
		t.Fatalf("no Secret Service on the session bus (is gnome-keyring-daemon running?): %v", err)
	}
	env, err := os.ReadFile(filepath.Join("/proc", strconv.FormatUint(uint64(pid), 10), "environ"))
	if err != nil {
		t.Fatalf("cannot check where the Secret Service (pid %d) keeps its keyrings: %v", pid, err)
	}
	daemonHome, daemonData := "", ""
	for _, kv := range bytes.Split(env, []byte{0}) {
		if v, ok := strings.CutPrefix(string(kv), "HOME="); ok {
			daemonHome = v
		}
		if v, ok := strings.CutPrefix(string(kv), "XDG_DATA_HOME="); ok {
			daemonData = v
		}
	}
	if daemonData == "" {
		daemonData = filepath.Join(daemonHome, ".local", "share")
	}
	if filepath.Clean(daemonHome) != filepath.Clean(home) || !kcIsUnder(daemonData, home) {
		t.Fatalf("the Secret Service on this bus (pid %d) uses HOME=%q, XDG_DATA_HOME=%q, not this test's private HOME %q: refusing to touch it", pid, daemonHome, daemonData, home)
	}
	return Keychain{}
}

// kcIsUnder reports whether path is dir or inside it, after resolving links.
func kcIsUnder(path, dir string) bool {
	if path == "" || dir == "" {
		return false
	}
	resolve := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return filepath.Clean(p)
	}
	rel, err := filepath.Rel(resolve(dir), resolve(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

// kcTestUser returns a user name no earlier run has used and removes its entry
// when the test ends, so runs never see each other's leftovers.
func kcTestUser(t *testing.T, k Keychain, label string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	user := "postcard-test-" + label + "-" + hex.EncodeToString(b) + "@example.com"
	t.Cleanup(func() {
		err := k.Delete(context.Background(), user)
		if err != nil && !errors.Is(err, ErrPasswordNotFound) {
			t.Errorf("cleanup of %s: %v", user, err)
		}
	})
	return user
}

func TestKeychain_RealKeyring(t *testing.T) {
	k := kcRealKeychain(t)
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"set then get", func(t *testing.T) {
			user := kcTestUser(t, k, "setget")
			if err := k.Set(ctx, user, kcPassword); err != nil {
				t.Fatalf("Set: %v", err)
			}
			got, err := k.Get(ctx, user)
			if err != nil || got != kcPassword {
				t.Fatalf("Get = %q, %v; want the stored password", got, err)
			}
		}},
		{"set replaces", func(t *testing.T) {
			user := kcTestUser(t, k, "replace")
			for _, pw := range []string{"first-pass-word-xx", kcPassword} {
				if err := k.Set(ctx, user, pw); err != nil {
					t.Fatalf("Set: %v", err)
				}
			}
			if got, err := k.Get(ctx, user); err != nil || got != kcPassword {
				t.Fatalf("Get = %q, %v; want the second password", got, err)
			}
		}},
		{"get unknown user", func(t *testing.T) {
			user := kcTestUser(t, k, "unknown")
			got, err := k.Get(ctx, user)
			if got != "" || !errors.Is(err, ErrPasswordNotFound) {
				t.Fatalf("Get = %q, %v; want ErrPasswordNotFound", got, err)
			}
			kcAsError(t, err, KindKeychain, StageKeychain)
		}},
		{"move", func(t *testing.T) {
			oldUser, newUser := kcTestUser(t, k, "moveold"), kcTestUser(t, k, "movenew")
			if err := k.Set(ctx, oldUser, kcPassword); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if err := k.Move(ctx, oldUser, newUser); err != nil {
				t.Fatalf("Move: %v", err)
			}
			if _, err := k.Get(ctx, oldUser); !errors.Is(err, ErrPasswordNotFound) {
				t.Errorf("old user after Move: %v, want ErrPasswordNotFound", err)
			}
			if got, err := k.Get(ctx, newUser); err != nil || got != kcPassword {
				t.Errorf("new user after Move: %q, %v", got, err)
			}
		}},
		{"move missing", func(t *testing.T) {
			oldUser, newUser := kcTestUser(t, k, "movemissing"), kcTestUser(t, k, "movemissingnew")
			if err := k.Move(ctx, oldUser, newUser); !errors.Is(err, ErrPasswordNotFound) {
				t.Fatalf("Move = %v, want ErrPasswordNotFound", err)
			}
			if _, err := k.Get(ctx, newUser); !errors.Is(err, ErrPasswordNotFound) {
				t.Errorf("new user after failed Move: %v, want ErrPasswordNotFound", err)
			}
		}},
		{"delete", func(t *testing.T) {
			user := kcTestUser(t, k, "delete")
			if err := k.Set(ctx, user, kcPassword); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if err := k.Delete(ctx, user); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, err := k.Get(ctx, user); !errors.Is(err, ErrPasswordNotFound) {
				t.Errorf("Get after Delete: %v, want ErrPasswordNotFound", err)
			}
			if err := k.Delete(ctx, user); !errors.Is(err, ErrPasswordNotFound) {
				t.Errorf("second Delete: %v, want ErrPasswordNotFound", err)
			}
		}},
		{"unicode password", func(t *testing.T) {
			user := kcTestUser(t, k, "unicode")
			pw := "pässwörd 密码 🔑 \"quoted\" 'single' \\ ✓"
			if err := k.Set(ctx, user, pw); err != nil {
				t.Fatalf("Set: %v", err)
			}
			if got, err := k.Get(ctx, user); err != nil || got != pw {
				t.Fatalf("Get = %q, %v; want %q", got, err, pw)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}
