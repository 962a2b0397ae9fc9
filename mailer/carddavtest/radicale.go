// Package carddavtest runs CardDAV servers on 127.0.0.1 for tests: a real
// Radicale holding an address book of iCloud-style cards, a front that
// redirects to it as contacts.icloud.com redirects to the account's own
// server, and fronts that fail (401, 5xx, no answer).
package carddavtest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer/smtptest"

	"github.com/postcard-mail/postcard/mailer/internal/testkit"
)

// The login Radicale accepts unless told otherwise; they match the mailer
// tests' account.
const (
	DefaultUser     = "ann@icloud.example"
	DefaultPassword = "abcd-efgh-ijkl-mnop"
)

// Debian's radicale script, run by Debian's python3: a python3 earlier on
// PATH (pyenv, a virtualenv) may not see the radicale package.
const (
	python3     = "/usr/bin/python3"
	radicaleBin = "/usr/bin/radicale"
)

// startTimeout bounds how long StartRadicale waits for the server to answer.
const startTimeout = 15 * time.Second

// RadicaleConfig describes a Radicale server. The zero value is
// DefaultUser's address book "contacts" holding DefaultCards(), with a
// certificate from a new CA.
type RadicaleConfig struct {
	// CA signs the server's certificate (for 127.0.0.1 and localhost); nil
	// means a new one, in Radicale.CA.
	CA *smtptest.CA
	// User and Password are the one login; empty means DefaultUser and
	// DefaultPassword. Neither may contain ':' or a line break.
	User, Password string
	// AddressBook names the user's address book collection; empty means
	// "contacts".
	AddressBook string
	// Cards are the address book's cards; nil means DefaultCards(), an
	// empty slice an empty address book.
	Cards []Card
}

// Radicale is a running Radicale (Debian's radicale package) on 127.0.0.1,
// speaking HTTPS only, with basic authentication against a plaintext
// htpasswd file and owner-only rights.
type Radicale struct {
	URL  string // "https://127.0.0.1:PORT"
	Host string // "127.0.0.1"
	Port int
	// CA signed the server's certificate; a client trusts the server
	// through CA.Pool().
	CA             *smtptest.CA
	User, Password string
	// PrincipalPath is the user's principal, "/<user>/" (Radicale sends it
	// percent-encoded: "/ann%40icloud.example/"). It is also the address
	// book home set.
	PrincipalPath string
	// AddressBookPath is the seeded address book, "/<user>/<book>/".
	AddressBookPath string
	// StorageDir is Radicale's filesystem storage.
	StorageDir string
	// LogFile is Radicale's log, printed when the test fails.
	LogFile string
}

// StartRadicale starts /usr/bin/radicale with no configuration file but its
// command line, seeds the address book by writing Radicale's storage
// directly (collection-root/<user>/<book>/ with a .Radicale.props that makes
// it an address book and one .vcf per card), waits until it answers, and
// stops it when t ends. It fails t if Radicale is not installed or does not
// start.
func StartRadicale(t testing.TB, cfg RadicaleConfig) *Radicale {
	t.Helper()
	for _, f := range []string{python3, radicaleBin} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("carddavtest: %s not found (%v): apt-get install radicale; make deps does", f, err)
		}
	}
	r := &Radicale{Host: "127.0.0.1", CA: cfg.CA, User: cfg.User, Password: cfg.Password}
	if r.User == "" {
		r.User = DefaultUser
	}
	if r.Password == "" {
		r.Password = DefaultPassword
	}
	if strings.ContainsAny(r.User+r.Password, ":\r\n") {
		t.Fatalf("carddavtest: user %q or its password contains ':' or a line break", r.User)
	}
	book := cfg.AddressBook
	if book == "" {
		book = "contacts"
	}
	cards := cfg.Cards
	if cards == nil {
		cards = DefaultCards()
	}
	if r.CA == nil {
		var err error
		if r.CA, err = smtptest.NewCA("carddavtest CA"); err != nil {
			t.Fatal(err)
		}
	}
	r.PrincipalPath = "/" + r.User + "/"
	r.AddressBookPath = r.PrincipalPath + book + "/"

	dir := t.TempDir()
	r.StorageDir = filepath.Join(dir, "storage")
	r.LogFile = filepath.Join(dir, "radicale.log")
	if err := r.writeFiles(dir, book, cards); err != nil {
		t.Fatalf("carddavtest: %v", err)
	}
	logFile, err := os.OpenFile(r.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("carddavtest: %v", err)
	}
	defer logFile.Close() // the child has its own copy

	// A free port is found by binding port 0 and closing it, so another
	// process may take it before Radicale binds it: try again then.
	for attempt := 1; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("carddavtest: %v", err)
		}
		r.Port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		r.URL = "https://" + net.JoinHostPort(r.Host, strconv.Itoa(r.Port))

		cmd := exec.Command(python3, radicaleBin,
			"--config", "", // no /etc/radicale/config, no ~/.config/radicale/config
			"--server-hosts", net.JoinHostPort(r.Host, strconv.Itoa(r.Port)),
			"--server-ssl", "True",
			"--server-certificate", filepath.Join(dir, "cert.pem"),
			"--server-key", filepath.Join(dir, "key.pem"),
			"--auth-type", "htpasswd",
			"--auth-htpasswd-filename", filepath.Join(dir, "users"),
			"--auth-htpasswd-encryption", "plain",
			"--auth-delay", "0", // a wrong-password test need not wait
			"--rights-type", "owner_only",
			"--storage-filesystem-folder", r.StorageDir,
			"--logging-level", "info",
		)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = logFile, logFile
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"}
		p, err := testkit.Start(cmd)
		if err != nil {
			t.Fatalf("carddavtest: starting %s: %v", radicaleBin, err)
		}
		err = r.waitReady(p)
		if err == nil {
			t.Cleanup(func() {
				p.Stop()
				if t.Failed() {
					printLog(t, "Radicale", r.LogFile)
				}
			})
			return r
		}
		p.Stop()
		if log, _ := os.ReadFile(r.LogFile); attempt < 5 && bytes.Contains(log, []byte("Address already in use")) {
			continue
		}
		printLog(t, "Radicale", r.LogFile)
		t.Fatalf("carddavtest: Radicale did not start: %v", err)
	}
}

// TLSConfig trusts the server's certificate and nothing else.
func (r *Radicale) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: r.CA.Pool(), MinVersion: tls.VersionTLS12}
}

// HTTPClient trusts the test CA only and gives up after 10 s.
func (r *Radicale) HTTPClient() *http.Client {
	return httpClient(r.CA, 10*time.Second)
}

func httpClient(ca *smtptest.CA, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}},
	}
}

func (r *Radicale) writeFiles(dir, book string, cards []Card) error {
	certPEM, keyPEM, err := r.CA.ServerPEM("127.0.0.1", "localhost")
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"cert.pem": certPEM,
		"key.pem":  keyPEM,
		"users":    []byte(r.User + ":" + r.Password + "\n"),
	}
	bookDir := filepath.Join("storage", "collection-root", r.User, book)
	files[filepath.Join(bookDir, ".Radicale.props")] = []byte(`{"tag": "VADDRESSBOOK", "D:displayname": "Contacts"}`)
	for _, c := range cards {
		if c.UID == "" || strings.ContainsAny(c.UID, `/\`) {
			return fmt.Errorf("card UID %q is empty or has a slash", c.UID)
		}
		files[filepath.Join(bookDir, c.UID+".vcf")] = []byte(c.VCard)
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// waitReady waits until Radicale answers an HTTPS request with a
// certificate the CA vouches for, the process exits, or startTimeout
// passes.
func (r *Radicale) waitReady(p *testkit.Process) error {
	client := httpClient(r.CA, 2*time.Second)
	defer client.CloseIdleConnections()
	return p.WaitReady("radicale", "answer", startTimeout, func() error {
		resp, err := client.Get(r.URL + "/.web/")
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
}

func printLog(t testing.TB, name, path string) {
	t.Helper()
	data, _ := os.ReadFile(path)
	t.Logf("carddavtest: %s's log (%s):\n%s", name, path, data)
}

// hostURL is u with its host replaced by host (keeping the port).
func hostURL(u, host string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.Host = net.JoinHostPort(host, p.Port())
	return p.String()
}
