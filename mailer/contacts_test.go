package mailer

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestAccount_Contacts(t *testing.T) {
	icloud := DefaultAccount()
	icloud.Username = " ann@icloud.com "
	other := Account{Host: "mail.example.org", Port: 587, Security: StartTLS, Username: "ann@example.org"}
	tests := []struct {
		name   string
		a      Account
		want   CardDAVAccount
		wantOK bool
	}{
		{"iCloud: iCloud Contacts", icloud, CardDAVAccount{URL: ICloudContactsURL, Username: "ann@icloud.com"}, true},
		{"iCloud, turned off", func() Account { a := icloud; a.NoContacts = true; return a }(), CardDAVAccount{}, false},
		{"iCloud, another server", func() Account { a := icloud; a.ContactsURL = " https://dav.example.org/ "; return a }(),
			CardDAVAccount{URL: "https://dav.example.org/", Username: "ann@icloud.com"}, true},
		// The password never goes to a server the user did not name.
		{"another provider, no server named", other, CardDAVAccount{}, false},
		{"another provider, a server named", func() Account { a := other; a.ContactsURL = "https://dav.example.org"; return a }(),
			CardDAVAccount{URL: "https://dav.example.org", Username: "ann@example.org"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.a.Contacts()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Contacts() = %+v, %v; want %+v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestAccount_ValidateContactsURL(t *testing.T) {
	tests := []struct {
		url  string
		want string // what the error says; "" when valid
	}{
		{"", ""},
		{"https://contacts.icloud.com", ""},
		{"https://dav.example.org:8443/remote.php/dav/", ""},
		{"HTTPS://dav.example.org", ""},
		{"http://dav.example.org", "https://"},
		{"dav.example.org", "not a URL"},
		{"https://", "not a URL"},
		{"https://ann:secret@dav.example.org", "holds a login"},
		{"https://dav.example.org/?x=1", "query"},
		{"https://dav.example.org/#top", "fragment"},
		{"https://dav.example.org:99999", "port"},
		{"https://dav.example.org/a b", "space"},
		{"https://dav.example.org/\r\nX: y", "line break"},
	}
	for _, tt := range tests {
		a := DefaultAccount()
		a.Username = "ann@icloud.com"
		a.ContactsURL = tt.url
		err := a.Validate()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.url, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Setting != SettingContactsURL || e.Kind != KindInvalidAccount || !strings.Contains(e.Error(), tt.want) {
			t.Errorf("%q: err = %v, want one about the contacts server saying %q", tt.url, err, tt.want)
			continue
		}
		if strings.Contains(e.Error(), "secret") {
			t.Errorf("%q: the error shows the password: %v", tt.url, e)
		}
		if !strings.Contains(e.Hint(), "https://") {
			t.Errorf("%q: hint %q", tt.url, e.Hint())
		}
	}
}

func TestAccount_ContactsSaved(t *testing.T) {
	dir := t.TempDir()
	a := DefaultAccount()
	a.Username, a.ContactsURL, a.NoContacts = "ann@icloud.com", "https://dav.example.org", true
	if err := SaveAccount(dir, a); err != nil {
		t.Fatal(err)
	}
	got, err := LoadAccount(dir)
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("LoadAccount = %+v, %v; want %+v", got, err, a)
	}
}

func TestError_CardDAVHintAndFix(t *testing.T) {
	tests := []struct {
		kind Kind
		fix  Setting
	}{
		{KindAuth, SettingPassword},
		{KindDNS, SettingContactsURL},
		{KindConnectRefused, SettingContactsURL},
		{KindConnectTimeout, SettingContactsURL},
		{KindTLSCertificate, SettingContactsURL},
		{KindTLSUnavailable, SettingContactsURL},
		{KindTemporary, ""},
		{KindTimeout, ""},
		{KindTooLarge, ""},
		{KindUnknown, ""},
	}
	for _, tt := range tests {
		e := &Error{Kind: tt.kind, Protocol: ProtocolCardDAV}
		if h := e.Hint(); !strings.Contains(h, "contacts") || h == HintFor(tt.kind).Text {
			t.Errorf("%s: hint %q is not the contacts' own", tt.kind, h)
		}
		if got := e.Fix(); got != tt.fix {
			t.Errorf("%s: Fix() = %q, want %q", tt.kind, got, tt.fix)
		}
	}
	// A kind without wording of its own keeps the general hint.
	if e := (&Error{Kind: KindKeychain, Protocol: ProtocolCardDAV}); e.Hint() != HintFor(KindKeychain).Text {
		t.Errorf("keychain hint %q", e.Hint())
	}
}
