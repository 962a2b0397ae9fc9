package mailer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func writeAccountFile(t *testing.T, dir, content string) string {
	t.Helper()
	path := filepath.Join(dir, AccountFile)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// An account file another user could have written is not used: it says
// where the password goes.
func TestLoadAccount_Unsafe(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows: the profile's ACLs, not modes, protect the file")
	}
	const good = `{"host": "smtp.mail.me.com", "username": "ann@icloud.com"}`
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir, file string)
		fix     string
		problem string
	}{
		{"file writable by others", func(t *testing.T, dir, file string) { chmod(t, file, 0o666) }, "chmod 600 ", "account.json is writable by group or others (mode 0666)"},
		{"file writable by group", func(t *testing.T, dir, file string) { chmod(t, file, 0o620) }, "chmod 600 ", "account.json is writable by group or others"},
		{"folder writable by others", func(t *testing.T, dir, file string) { chmod(t, dir, 0o777) }, "chmod 700 ", "is in a folder that is writable by group or others"},
		{"file owned by another user", func(t *testing.T, dir, file string) { chownOther(t, file) }, "chown ", "account.json is owned by user"},
		{"folder owned by another user", func(t *testing.T, dir, file string) { chownOther(t, dir) }, "chown ", "is in a folder that is owned by user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "postcard")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			file := writeAccountFile(t, dir, good)
			tt.setup(t, dir, file)
			_, err := LoadAccount(dir)
			var ue *UnsafeError
			if !errors.Is(err, ErrAccountUnsafe) || !errors.As(err, &ue) {
				t.Fatalf("LoadAccount = %v, want ErrAccountUnsafe", err)
			}
			if KindOf(err) != KindInvalidAccount || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), tt.problem) {
				t.Errorf("error %q: want invalid-account naming %s and saying %q", err, file, tt.problem)
			}
			if !strings.HasPrefix(ue.Error(), ue.Path+" is ") {
				t.Errorf("UnsafeError %q, want %q followed by what is wrong with it", ue.Error(), ue.Path)
			}
			if !strings.HasPrefix(ue.Fix, tt.fix) {
				t.Errorf("fix %q, want %q…", ue.Fix, tt.fix)
			}
			if err := SaveAccount(dir, DefaultAccount()); strings.Contains(tt.name, "folder") && !errors.Is(err, ErrAccountUnsafe) {
				t.Errorf("SaveAccount into an unsafe folder = %v, want ErrAccountUnsafe", err)
			}
		})
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// chownOther gives path to another user, which only root can do.
func chownOther(t *testing.T, path string) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("only root can give a file to another user")
	}
	if err := os.Chown(path, 65534, -1); err != nil {
		t.Fatal(err)
	}
}

// A file or field far larger than any account is refused without reading
// it whole.
func TestLoadAccount_Sizes(t *testing.T) {
	t.Run("1 GiB file", func(t *testing.T) {
		dir := t.TempDir()
		path := writeAccountFile(t, dir, `{"username": "ann@icloud.com", "display_name": "`)
		if err := os.Truncate(path, 1<<30); err != nil { // sparse: costs no disk
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := LoadAccount(dir)
		runtime.ReadMemStats(&after)
		if KindOf(err) != KindInvalidAccount || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadAccount = %v, want invalid-account naming the file", err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("allocated %d KiB", grew>>10)
		}
	})
	t.Run("long signature of an alias", func(t *testing.T) {
		dir := t.TempDir()
		writeAccountFile(t, dir, `{"username": "ann@icloud.com", "aliases": [{"address": "a@icloud.com", "signature": "`+strings.Repeat("s", 5000)+`"}]}`)
		_, err := LoadAccount(dir)
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindInvalidAccount || e.Setting != SettingAliases {
			t.Errorf("LoadAccount = %v, want invalid-account at the aliases", err)
		}
	})
	t.Run("long display name", func(t *testing.T) {
		dir := t.TempDir()
		writeAccountFile(t, dir, `{"username": "ann@icloud.com", "display_name": "`+strings.Repeat("N", 3000)+`"}`)
		_, err := LoadAccount(dir)
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindInvalidAccount || e.Setting != SettingDisplayName {
			t.Errorf("LoadAccount = %v, want invalid-account at the display name", err)
		}
	})
	t.Run("long host refused by Validate and SaveAccount", func(t *testing.T) {
		a := DefaultAccount()
		a.Username = "ann@icloud.com"
		a.Host = strings.Repeat("h", 300) + ".example"
		if err := a.Validate(); KindOf(err) != KindInvalidAccount {
			t.Errorf("Validate = %v", err)
		}
		if err := SaveAccount(t.TempDir(), a); KindOf(err) != KindInvalidAccount {
			t.Errorf("SaveAccount = %v", err)
		}
	})
}

// A folder the account cannot be written in is named in the error.
func TestSaveAccount_FolderErrors(t *testing.T) {
	parent := t.TempDir()
	notDir := filepath.Join(parent, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(notDir, "postcard")
	err := SaveAccount(dir, DefaultAccount())
	if KindOf(err) != KindInvalidAccount || !strings.Contains(err.Error(), dir) {
		t.Errorf("SaveAccount = %v, want invalid-account naming %s", err, dir)
	}
	if os.Getuid() != 0 && runtime.GOOS != "windows" {
		ro := filepath.Join(parent, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		err := SaveAccount(ro, DefaultAccount())
		if KindOf(err) != KindInvalidAccount || !strings.Contains(err.Error(), ro) || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("SaveAccount into a read-only folder = %v", err)
		}
	}
}

// LockAccount serialises: the second waits until the first lets go, and
// gives up when its context ends.
func TestLockAccount(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "postcard")
	unlock, err := LockAccount(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := LockAccount(ctx, dir); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second lock while held = %v, want it to give up", err)
	}

	// One waiting while the lock is held gets it once it is let go.
	done := make(chan error, 1)
	go func() {
		u, err := LockAccount(context.Background(), dir)
		if err == nil {
			u()
		}
		done <- err
	}()
	unlock()
	if err := <-done; err != nil {
		t.Fatalf("lock after release: %v", err)
	}
}
