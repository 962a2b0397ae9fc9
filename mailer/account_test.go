package mailer

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestAccount_Validate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Account)
		want   []string // what the error must say; nil when valid
	}{
		{"iCloud defaults with username", func(*Account) {}, nil},
		{"iCloud on 465 with SSL", func(a *Account) { a.Port, a.Security = ImplicitTLSPort, ImplicitTLS }, nil},
		{"iCloud host with trailing dot and capitals", func(a *Account) { a.Host = "SMTP.mail.me.com." }, nil},
		{"alias From", func(a *Account) { a.From = "ann.alias@icloud.com" }, nil},
		{"custom-domain From and display name", func(a *Account) {
			a.From, a.DisplayName = "ann@custom.example", "Ann Ängström"
		}, nil},
		{"other server, login that is not an address, From set", func(a *Account) {
			a.Host, a.Port, a.Username, a.From = "mail.example.org", 2525, "ann", "ann@example.org"
		}, nil},

		{"empty host", func(a *Account) { a.Host = "  " }, []string{"host is empty"}},
		{"host with a space", func(a *Account) { a.Host = "smtp mail.me.com" }, []string{"host", `"smtp mail.me.com"`}},
		{"host that is a URL", func(a *Account) { a.Host = "smtps://smtp.mail.me.com" }, []string{"host", `"smtps://smtp.mail.me.com"`}},
		{"port 0", func(a *Account) { a.Port = 0 }, []string{"port 0"}},
		{"port 70000", func(a *Account) { a.Port = 70000 }, []string{"port 70000"}},
		{"negative port", func(a *Account) { a.Port = -1 }, []string{"port -1"}},
		{"bad security", func(a *Account) { a.Security = "tls1.3" }, []string{"security", `"tls1.3"`}},
		{"empty security", func(a *Account) { a.Security = "" }, []string{"security"}},
		{"empty username", func(a *Account) { a.Username = "" }, []string{"username is empty", "full iCloud address"}},
		{"iCloud username without domain", func(a *Account) { a.Username = "ann" },
			[]string{`username "ann"`, "full email address", "name@icloud.com"}},
		{"iCloud username with display name", func(a *Account) { a.Username = "Ann <ann@icloud.com>" },
			[]string{"username", "full email address"}},
		{"iCloud username with line break", func(a *Account) { a.Username = "ann@icloud.com\r\nX: y" },
			[]string{"username"}},
		{"other server, username with line break", func(a *Account) {
			a.Host, a.Username, a.From = "mail.example.org", "ann\nX: y", "ann@example.org"
		}, []string{"username", "line break"}},
		{"other server, no From and a username that is not an address", func(a *Account) {
			a.Host, a.Username = "mail.example.org", "ann"
		}, []string{"from address is empty", `username "ann"`}},
		{"From not an address", func(a *Account) { a.From = "ann at icloud" },
			[]string{`from address "ann at icloud"`}},
		{"From without dot in domain", func(a *Account) { a.From = "ann@localhost" },
			[]string{`from address "ann@localhost"`}},
		{"From with display name", func(a *Account) { a.From = "Ann <ann@icloud.com>" },
			[]string{"from address", `"Ann <ann@icloud.com>"`}},
		{"From with line break", func(a *Account) { a.From = "ann@icloud.com\nBcc: evil@x.com" },
			[]string{"from address"}},
		{"display name with newline", func(a *Account) { a.DisplayName = "Ann\nBcc: evil@x.com" },
			[]string{"display name", "line break"}},
		{"display name with CR", func(a *Account) { a.DisplayName = "Ann\rX" },
			[]string{"display name", "line break"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := DefaultAccount()
			a.Username = "ann@icloud.com"
			tt.change(&a)
			err := a.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", a, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%+v) = nil, want an error naming %q", a, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindInvalidAccount {
				t.Fatalf("Validate error = %v (%T), want an *Error of kind %s", err, err, KindInvalidAccount)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestDefaultAccount(t *testing.T) {
	a := DefaultAccount()
	if a.Host != "smtp.mail.me.com" || a.Port != 587 || a.Security != StartTLS {
		t.Errorf("DefaultAccount() = %+v, want smtp.mail.me.com 587 starttls", a)
	}
	if !a.IsICloud() {
		t.Error("DefaultAccount is not iCloud")
	}
}

func TestAccount_FromAddress(t *testing.T) {
	a := Account{Username: " ann@icloud.com "}
	if got := a.FromAddress(); got != "ann@icloud.com" {
		t.Errorf("FromAddress() = %q, want the username", got)
	}
	a.From = "alias@icloud.com"
	if got := a.FromAddress(); got != "alias@icloud.com" {
		t.Errorf("FromAddress() = %q, want the From", got)
	}
}

func TestParseSecurity(t *testing.T) {
	tests := []struct {
		in   string
		want Security
		ok   bool
	}{
		{"starttls", StartTLS, true},
		{" STARTTLS ", StartTLS, true},
		{"ssl", ImplicitTLS, true},
		{"SSL/TLS", ImplicitTLS, true},
		{"tls", ImplicitTLS, true},
		{"none", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := ParseSecurity(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseSecurity(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "starttls or ssl") {
			t.Errorf("ParseSecurity(%q) error %q does not say what is allowed", tt.in, err)
		}
	}
}

func TestSaveAccount_RoundTrip(t *testing.T) {
	// A folder that does not exist yet, as on first login.
	dir := filepath.Join(t.TempDir(), "config", "postcard")
	want := Account{
		Host:        ICloudHost,
		Port:        ImplicitTLSPort,
		Security:    ImplicitTLS,
		Username:    "ann@icloud.com",
		From:        "ann@custom.example",
		DisplayName: "Ann Ängström",
	}
	for i, a := range []Account{DefaultAccount(), want} {
		// The second save replaces the first.
		if err := SaveAccount(dir, a); err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	got, err := LoadAccount(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadAccount = %+v, want %+v", got, want)
	}

	path := filepath.Join(dir, AccountFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
		}
		di, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if di.Mode().Perm() != 0o700 {
			t.Errorf("%s has mode %v, want 0700", dir, di.Mode().Perm())
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != AccountFile {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %q, want only %s (no temp files)", names, AccountFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(string(data)), "password") {
		t.Errorf("account file mentions a password:\n%s", data)
	}
}

func TestWriteFileAtomic_KeepsModeOnReplace(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	path := filepath.Join(t.TempDir(), "f.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced file has mode %v, want 0600", fi.Mode().Perm())
	}
	if data, _ := os.ReadFile(path); string(data) != "new" {
		t.Errorf("content = %q, want new", data)
	}
}

func TestLoadAccount_Missing(t *testing.T) {
	for name, dir := range map[string]string{
		"empty folder":   t.TempDir(),
		"missing folder": filepath.Join(t.TempDir(), "nope"),
	} {
		t.Run(name, func(t *testing.T) {
			a, err := LoadAccount(dir)
			if !errors.Is(err, ErrNoAccount) {
				t.Errorf("LoadAccount error = %v, want ErrNoAccount", err)
			}
			if !reflect.DeepEqual(a, DefaultAccount()) {
				t.Errorf("LoadAccount = %+v, want DefaultAccount()", a)
			}
		})
	}
}

func TestLoadAccount_File(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    Account
		wantErr string
	}{
		{"missing fields get iCloud defaults", `{"username": "ann@icloud.com"}`,
			Account{Host: ICloudHost, Port: StartTLSPort, Security: StartTLS, Username: "ann@icloud.com"}, ""},
		{"unknown fields are ignored", `{"username": "ann@icloud.com", "theme": "dark"}`,
			Account{Host: ICloudHost, Port: StartTLSPort, Security: StartTLS, Username: "ann@icloud.com"}, ""},
		{"corrupt", `{"username": `, DefaultAccount(), AccountFile},
		{"wrong type", `{"port": "587"}`, DefaultAccount(), AccountFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, AccountFile), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			a, err := LoadAccount(dir)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("LoadAccount: %v", err)
			case tt.wantErr != "" && (err == nil || errors.Is(err, ErrNoAccount) || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("LoadAccount error = %v, want one naming %s", err, tt.wantErr)
			}
			if !reflect.DeepEqual(a, tt.want) {
				t.Errorf("LoadAccount = %+v, want %+v", a, tt.want)
			}
		})
	}
}

func TestConfigDir_XDG(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" || runtime.GOOS == "plan9" {
		t.Skip("XDG_CONFIG_HOME is a Unix convention that os.UserConfigDir ignores on " + runtime.GOOS)
	}
	t.Run("XDG_CONFIG_HOME set", func(t *testing.T) {
		xdg := t.TempDir()
		t.Setenv("XDG_CONFIG_HOME", xdg)
		got, err := ConfigDir()
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(xdg, "postcard"); got != want {
			t.Errorf("ConfigDir() = %q, want %q", got, want)
		}
	})
	t.Run("XDG_CONFIG_HOME unset", func(t *testing.T) {
		home := t.TempDir()
		t.Setenv("XDG_CONFIG_HOME", "")
		t.Setenv("HOME", home)
		got, err := ConfigDir()
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(home, ".config", "postcard"); got != want {
			t.Errorf("ConfigDir() = %q, want %q", got, want)
		}
	})
	t.Run("relative XDG_CONFIG_HOME", func(t *testing.T) {
		t.Setenv("XDG_CONFIG_HOME", "relative/dir")
		if got, err := ConfigDir(); err == nil {
			t.Errorf("ConfigDir() = %q, want an error for a relative XDG_CONFIG_HOME", got)
		}
	})
	t.Run("save and load through it", func(t *testing.T) {
		t.Setenv("XDG_CONFIG_HOME", t.TempDir())
		dir, err := ConfigDir()
		if err != nil {
			t.Fatal(err)
		}
		a := DefaultAccount()
		a.Username = "ann@icloud.com"
		if err := SaveAccount(dir, a); err != nil {
			t.Fatal(err)
		}
		if got, err := LoadAccount(dir); err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("LoadAccount = %+v, %v; want %+v", got, err, a)
		}
	})
}

func TestAccount_Addr(t *testing.T) {
	tests := []struct {
		a    Account
		want string
	}{
		{Account{Host: "smtp.mail.me.com", Port: 587}, "smtp.mail.me.com:587"},
		{Account{Host: " 127.0.0.1 ", Port: 2525}, "127.0.0.1:2525"},
		{Account{Host: "::1", Port: 465}, "[::1]:465"},
	}
	for _, tt := range tests {
		if got := tt.a.Addr(); got != tt.want {
			t.Errorf("Addr() of %q = %q, want %q", tt.a.Host, got, tt.want)
		}
	}
}

func TestAccount_Identities(t *testing.T) {
	a := Account{Host: ICloudHost, Port: 587, Security: StartTLS, Username: "ann@icloud.com", DisplayName: "Ann", Signature: "Ann\n",
		Aliases: []Identity{{Address: "ann@example.org", Name: "Ann at work", Signature: "Ann, Example Org\n"}, {Address: "ANN@icloud.com"}, {Address: " "}}}
	ids := a.Identities()
	if len(ids) != 2 || ids[0].Address != "ann@icloud.com" || ids[1].Name != "Ann at work" {
		t.Fatalf("Identities = %+v", ids)
	}
	if got := a.Identity("Ann@Example.org"); got.Signature != "Ann, Example Org\n" {
		t.Errorf("Identity = %+v", got)
	}
	if got := a.Identity("stranger@example.com"); got.Address != "ann@icloud.com" {
		t.Errorf("unknown address gave %+v", got)
	}
	p, err := Prepare(a, Message{From: "ann@example.org", To: []string{"bob@example.org"}, Subject: "s", Body: "b"})
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	p.WriteTo(&buf)
	if !strings.Contains(buf.String(), "From: \"Ann at work\" <ann@example.org>") {
		t.Errorf("the alias's name is not in the From:\n%s", buf.String())
	}
	bad := a
	bad.Aliases = []Identity{{Address: "not an address"}}
	if err := bad.Validate(); KindOf(err) != KindInvalidAccount {
		t.Errorf("Validate = %v", err)
	}
}
