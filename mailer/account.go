package mailer

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Security is how a connection is encrypted.
type Security string

const (
	// StartTLS connects in plain text and must upgrade with STARTTLS before
	// anything else is sent (port 587). There is no plaintext fallback.
	StartTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte (port 465, "SSL/TLS").
	ImplicitTLS Security = "ssl"
)

// The iCloud Mail defaults.
const (
	ICloudHost      = "smtp.mail.me.com"
	StartTLSPort    = 587
	ImplicitTLSPort = 465
)

// ParseSecurity accepts "starttls" or "ssl" (also "tls" and "ssl/tls").
func ParseSecurity(s string) (Security, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "starttls":
		return StartTLS, nil
	case "ssl", "tls", "ssl/tls", "implicit":
		return ImplicitTLS, nil
	}
	return "", fmt.Errorf("mailer: unknown security %q (want starttls or ssl)", s)
}

// Label is the encryption's name as the settings show it: "STARTTLS" or
// "SSL/TLS".
func (s Security) Label() string {
	if s == ImplicitTLS {
		return "SSL/TLS"
	}
	return "STARTTLS"
}

// UsualPort is the port the encryption is usually spoken on: 587 for
// STARTTLS, 465 for SSL/TLS.
func (s Security) UsualPort() int {
	if s == ImplicitTLS {
		return ImplicitTLSPort
	}
	return StartTLSPort
}

// UsualIMAPPort is the IMAP port that goes with s: 993 for SSL/TLS, 143
// for STARTTLS.
func (s Security) UsualIMAPPort() int {
	if s == StartTLS {
		return IMAPStartTLSPort
	}
	return IMAPImplicitTLSPort
}

// Choice is the port-and-encryption choice as the settings offer it:
// "587 · STARTTLS (recommended)" or "465 · SSL/TLS".
func (s Security) Choice() string {
	if s == ImplicitTLS {
		return fmt.Sprintf("%d · %s", ImplicitTLSPort, s.Label())
	}
	return fmt.Sprintf("%d · %s (recommended)", StartTLSPort, s.Label())
}

// Setting names one setting of an account, for errors that point at it.
type Setting string

// The settings an *Error can point at.
const (
	SettingHost        Setting = "host"
	SettingPort        Setting = "port"
	SettingSecurity    Setting = "security"
	SettingUsername    Setting = "username"
	SettingFrom        Setting = "from"
	SettingDisplayName Setting = "display-name"
	SettingPassword    Setting = "password"
	SettingIMAPHost    Setting = "imap-host"
	SettingIMAPPort    Setting = "imap-port"
	SettingIMAPSec     Setting = "imap-security"
	SettingContactsURL Setting = "contacts-url"
	SettingAliases     Setting = "aliases"
)

// Account is where and as whom to send. It holds no password: that lives in
// the keychain. The zero value is not usable; start from DefaultAccount.
type Account struct {
	Host     string   `json:"host"`
	Port     int      `json:"port"`
	Security Security `json:"security"`
	// Username is the login, for iCloud the full address (name@icloud.com).
	Username string `json:"username"`
	// From is the sender address when it differs from Username: an alias or
	// a custom-domain address of the same account.
	From string `json:"from,omitempty"`
	// DisplayName is shown to recipients next to the From address.
	DisplayName string `json:"display_name,omitempty"`
	// Signature goes under the messages sent from the From address.
	Signature string `json:"signature,omitempty"`
	// Aliases are the account's other addresses: iCloud aliases and the
	// custom-domain addresses of iCloud+, each with its own name and
	// signature. The login stays Username.
	Aliases []Identity `json:"aliases,omitempty"`

	// The IMAP server where a copy of each message sent is filed, in the
	// Sent folder, with the same username and password. An empty host
	// means iCloud's (imap.mail.me.com, 993, SSL/TLS) when sending through
	// iCloud, and no copy otherwise: the password never goes to a server
	// the user did not name.
	IMAPHost     string   `json:"imap_host,omitempty"`
	IMAPPort     int      `json:"imap_port,omitempty"`
	IMAPSecurity Security `json:"imap_security,omitempty"`
	// NoSentCopy turns the copy in the Sent folder off.
	NoSentCopy bool `json:"no_sent_copy,omitempty"`

	// ContactsURL is the CardDAV server the contacts are read from, for
	// suggestions, with the same username and password. Empty means
	// iCloud's (ICloudContactsURL) when sending through iCloud, and none
	// otherwise, as for IMAPHost.
	ContactsURL string `json:"contacts_url,omitempty"`
	// NoContacts turns reading the contacts off.
	NoContacts bool `json:"no_contacts,omitempty"`
}

// Identity is an address the account sends from, with the name recipients
// see and the signature that goes under the messages.
type Identity struct {
	Address   string `json:"address"`
	Name      string `json:"name,omitempty"`
	Signature string `json:"signature,omitempty"`
}

// String is the identity as a From line shows it: "Ann <ann@icloud.com>".
func (id Identity) String() string {
	if id.Name == "" {
		return id.Address
	}
	return id.Name + " <" + id.Address + ">"
}

// MaxSignature bounds a signature: a few lines, not a document.
const MaxSignature = 4 << 10

// Identities lists the addresses the account sends from, the default (From,
// or else Username) first, then the aliases, each once.
func (a Account) Identities() []Identity {
	out := []Identity{{Address: a.FromAddress(), Name: strings.TrimSpace(a.DisplayName), Signature: a.Signature}}
	seen := map[string]bool{strings.ToLower(out[0].Address): true}
	for _, id := range a.Aliases {
		addr := strings.TrimSpace(id.Address)
		if addr == "" || seen[strings.ToLower(addr)] {
			continue
		}
		seen[strings.ToLower(addr)] = true
		id.Address, id.Name = addr, strings.TrimSpace(id.Name)
		out = append(out, id)
	}
	return out
}

// Identity returns the identity of address addr, or the default one when
// addr is empty or not one of the account's.
func (a Account) Identity(addr string) Identity {
	ids := a.Identities()
	for _, id := range ids {
		if strings.EqualFold(id.Address, strings.TrimSpace(addr)) {
			return id
		}
	}
	return ids[0]
}

// ICloudContactsURL is iCloud Contacts' CardDAV server. It sends each
// account on to a server of its own (pNN-contacts.icloud.com).
const ICloudContactsURL = "https://contacts.icloud.com"

// CardDAVAccount is where the contacts are read from. It holds no
// password: the one of the sending account is used.
type CardDAVAccount struct {
	// URL is the server's https URL: its root, the context path of its
	// CardDAV service, or an address book.
	URL string `json:"url"`
	// Username is the login, for iCloud the full address, as for sending.
	Username string `json:"username"`
}

// Validate checks the URL (https only, no login inside it) and the
// username. Its errors are *Error of KindInvalidAccount.
func (c CardDAVAccount) Validate() error {
	if err := checkContactsURL(c.URL); err != nil {
		return &Error{Kind: KindInvalidAccount, Stage: StageValidate, Setting: SettingContactsURL, Protocol: ProtocolCardDAV, Detail: err.Error()}
	}
	switch {
	case strings.TrimSpace(c.Username) == "":
		return &Error{Kind: KindInvalidAccount, Stage: StageValidate, Setting: SettingUsername, Protocol: ProtocolCardDAV,
			Detail: "username is empty: use your full iCloud address, like name@icloud.com"}
	case hasCRLF(c.Username):
		return &Error{Kind: KindInvalidAccount, Stage: StageValidate, Setting: SettingUsername, Protocol: ProtocolCardDAV,
			Detail: "username contains a line break"}
	}
	return nil
}

// Contacts returns where the contacts are read from, and false when they
// are not: turned off, or no CardDAV server for a provider other than
// iCloud (the password never goes to a server the user did not name).
func (a Account) Contacts() (CardDAVAccount, bool) {
	if a.NoContacts {
		return CardDAVAccount{}, false
	}
	u := strings.TrimSpace(a.ContactsURL)
	if u == "" {
		if !a.IsICloud() {
			return CardDAVAccount{}, false
		}
		u = ICloudContactsURL
	}
	return CardDAVAccount{URL: u, Username: strings.TrimSpace(a.Username)}, true
}

// checkContactsURL accepts an absolute https URL with a host and no login,
// query or fragment.
func checkContactsURL(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("contacts server is empty (iCloud's is " + ICloudContactsURL + ")")
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return fmt.Errorf("contacts server %q contains a space or a line break", s)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return fmt.Errorf("contacts server %q is not a URL like %s", s, ICloudContactsURL)
	case !strings.EqualFold(u.Scheme, "https"):
		return fmt.Errorf("contacts server %q does not start with https://: Postcard sends the password over https only", s)
	case u.User != nil:
		return fmt.Errorf("contacts server %q holds a login: the username and password are the account's", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("contacts server %q has a query or fragment", s)
	case u.Port() != "":
		if n, err := strconv.Atoi(u.Port()); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("contacts server %q has a port that is not a number from 1 to 65535", s)
		}
	}
	return nil
}

// SentCopy returns where the copy of a message sent is filed, and false
// when no copy is filed: turned off, or no IMAP server for a provider other
// than iCloud.
func (a Account) SentCopy() (IMAPAccount, bool) {
	if a.NoSentCopy {
		return IMAPAccount{}, false
	}
	im := IMAPAccount{Host: strings.TrimSpace(a.IMAPHost), Port: a.IMAPPort, Security: a.IMAPSecurity, Username: strings.TrimSpace(a.Username)}
	if im.Host == "" {
		if !a.IsICloud() {
			return IMAPAccount{}, false
		}
		im.Host = ICloudIMAPHost // withDefaults gives iCloud's port and security
	}
	return im.withDefaults(), true
}

// DefaultAccount returns iCloud's settings: smtp.mail.me.com, 587, STARTTLS.
func DefaultAccount() Account {
	return Account{Host: ICloudHost, Port: StartTLSPort, Security: StartTLS}
}

// IsICloud reports whether the account sends through iCloud Mail.
func (a Account) IsICloud() bool {
	return strings.EqualFold(strings.TrimSuffix(strings.TrimSpace(a.Host), "."), ICloudHost)
}

// FromAddress is the address messages are sent from: From, or else Username.
func (a Account) FromAddress() string {
	if strings.TrimSpace(a.From) != "" {
		return strings.TrimSpace(a.From)
	}
	return strings.TrimSpace(a.Username)
}

// Addr is host:port.
func (a Account) Addr() string {
	return netJoin(strings.TrimSpace(a.Host), a.Port)
}

func netJoin(host string, port int) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// Validate checks every field and names the first bad one. Its errors are
// *Error of KindInvalidAccount, with Setting naming the field.
func (a Account) Validate() error {
	for _, f := range []Setting{SettingHost, SettingPort, SettingSecurity, SettingUsername, SettingFrom, SettingDisplayName,
		SettingIMAPHost, SettingIMAPPort, SettingIMAPSec, SettingContactsURL, SettingAliases} {
		if err := a.ValidateSetting(f); err != nil {
			return err
		}
	}
	return nil
}

// ValidateSetting checks one field of a as Validate does, so a settings form
// can say what is wrong with a field as it is typed.
func (a Account) ValidateSetting(f Setting) error {
	bad := func(format string, args ...any) error {
		return &Error{Kind: KindInvalidAccount, Stage: StageValidate, Setting: f, Detail: fmt.Sprintf(format, args...)}
	}
	if err := a.checkLength(f); err != nil {
		return bad("%v", err)
	}
	switch f {
	case SettingHost:
		host := strings.TrimSpace(a.Host)
		switch {
		case host == "":
			return bad("host is empty")
		case strings.ContainsAny(host, " \t\r\n/@"):
			return bad("host %q is not a host name", host)
		}
	case SettingPort:
		if a.Port < 1 || a.Port > 65535 {
			return bad("port %d is not a number from 1 to 65535 (iCloud: 587 or 465)", a.Port)
		}
	case SettingSecurity:
		if a.Security != StartTLS && a.Security != ImplicitTLS {
			return bad("security %q is not starttls or ssl", a.Security)
		}
	case SettingUsername:
		if strings.TrimSpace(a.Username) == "" {
			return bad("username is empty: use your full iCloud address, like name@icloud.com")
		}
		if a.IsICloud() {
			if _, err := parseBareAddress(a.Username); err != nil {
				return bad("username %q is not a full email address: iCloud needs the whole address, like name@icloud.com", a.Username)
			}
		} else if hasCRLF(a.Username) {
			return bad("username contains a line break")
		}
	case SettingFrom:
		if strings.TrimSpace(a.From) != "" {
			if _, err := parseBareAddress(a.From); err != nil {
				return bad("from address %q is not a valid email address", a.From)
			}
		} else if _, err := parseBareAddress(a.Username); err != nil && strings.TrimSpace(a.Username) != "" {
			return bad("from address is empty and username %q is not an email address: set a from address", a.Username)
		}
	case SettingDisplayName:
		if hasCRLF(a.DisplayName) {
			return bad("display name contains a line break")
		}
		if len(a.Signature) > MaxSignature {
			return bad("the signature is %d bytes; at most %d", len(a.Signature), MaxSignature)
		}
	case SettingAliases:
		if len(a.Aliases) > maxAliases {
			return bad("%d aliases; at most %d", len(a.Aliases), maxAliases)
		}
		for _, id := range a.Aliases {
			if _, err := parseBareAddress(id.Address); err != nil {
				return bad("alias %q is not a valid email address", id.Address)
			}
			if hasCRLF(id.Name) {
				return bad("the name of alias %s contains a line break", id.Address)
			}
			if len(id.Signature) > MaxSignature {
				return bad("the signature of alias %s is %d bytes; at most %d", id.Address, len(id.Signature), MaxSignature)
			}
		}
	case SettingIMAPHost:
		if host := strings.TrimSpace(a.IMAPHost); strings.ContainsAny(host, " \t\r\n/@") {
			return bad("IMAP host %q is not a host name", host)
		}
	case SettingIMAPPort:
		if a.IMAPPort < 0 || a.IMAPPort > 65535 {
			return bad("IMAP port %d is not a number from 1 to 65535 (iCloud: 993)", a.IMAPPort)
		}
	case SettingIMAPSec:
		if a.IMAPSecurity != "" && a.IMAPSecurity != StartTLS && a.IMAPSecurity != ImplicitTLS {
			return bad("IMAP security %q is not starttls or ssl", a.IMAPSecurity)
		}
	case SettingContactsURL:
		if strings.TrimSpace(a.ContactsURL) != "" {
			if err := checkContactsURL(a.ContactsURL); err != nil {
				return &Error{Kind: KindInvalidAccount, Stage: StageValidate, Setting: f, Protocol: ProtocolCardDAV, Detail: err.Error()}
			}
		}
	}
	return nil
}

func hasCRLF(s string) bool { return strings.ContainsAny(s, "\r\n") }

// parseBareAddress accepts exactly one plain address, without display name.
func parseBareAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if hasCRLF(s) {
		return "", errors.New("contains a line break")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil {
		return "", err
	}
	if addr.Name != "" || addr.Address != s {
		return "", errors.New("not a bare address")
	}
	if !strings.Contains(addr.Address[strings.LastIndexByte(addr.Address, '@')+1:], ".") {
		return "", errors.New("domain has no dot")
	}
	return addr.Address, nil
}

// ConfigDir is Postcard's folder under os.UserConfigDir (which honours
// XDG_CONFIG_HOME on Linux).
func ConfigDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("mailer: no config folder: %w", err)
	}
	return filepath.Join(base, "postcard"), nil
}

// DataDir is Postcard's folder for the user's messages (drafts, outbox and
// sent): $XDG_DATA_HOME/postcard on Linux and the BSDs (~/.local/share by
// default), ~/Library/Application Support/postcard on macOS,
// %LocalAppData%\postcard on Windows. Settings live in ConfigDir.
func DataDir() (string, error) {
	var base string
	switch runtime.GOOS {
	case "windows":
		base = os.Getenv("LocalAppData")
		if base == "" {
			return "", errors.New("mailer: no data folder: %LocalAppData% is not set")
		}
	case "darwin", "ios":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("mailer: no data folder: %w", err)
		}
		base = filepath.Join(home, "Library", "Application Support")
	default:
		base = os.Getenv("XDG_DATA_HOME")
		if !filepath.IsAbs(base) {
			// The spec says a relative value is invalid and to be ignored.
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("mailer: no data folder: %w", err)
			}
			base = filepath.Join(home, ".local", "share")
		}
	}
	return filepath.Join(base, "postcard"), nil
}

// AccountFile is the name of the account file inside the config folder.
const AccountFile = "account.json"

// ErrNoAccount is returned by LoadAccount when no account has been saved.
var ErrNoAccount = errors.New("mailer: no account saved yet (run postcard login)")

// LoadAccount reads the account from dir (usually ConfigDir()). Missing
// fields get iCloud's defaults.
//
// The account says where the password goes, so LoadAccount refuses a file
// that another user could have written: one in a folder, or itself,
// writable by group or others, or not owned by the user (on Unix). It also
// refuses a file larger than a few KiB or a field longer than any real
// setting. Every error but ErrNoAccount names the file; the unsafe ones are
// an *Error wrapping an *UnsafeError, which says the command that fixes it.
func LoadAccount(dir string) (Account, error) {
	return loadAccount(dir)
}

// SaveAccount writes the account to dir atomically (temp file, then rename),
// readable only by the user. It refuses a folder others could write (as
// LoadAccount would), and its errors name the folder: a read-only folder
// or a full disk is the folder's problem, not the account's.
func SaveAccount(dir string, a Account) error {
	return saveAccount(dir, a)
}

// WriteFileAtomic writes data to path so that a reader (or a crash) sees
// either the old or the new content, never a mix. The file gets mode 0600 and
// its folder 0700 when it has to be created.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("mailer: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("mailer: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("mailer: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("mailer: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("mailer: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("mailer: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("mailer: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
