// Package imaptest runs IMAP servers on 127.0.0.1 for tests: a real Dovecot
// holding iCloud's folders, and go-imap's own server scripted to fail in the
// ways a real one rarely does (see NewHostile).
package imaptest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postcard-mail/postcard/mailer/smtptest"

	"github.com/postcard-mail/postcard/mailer/internal/testkit"
)

// The login every server of this package accepts unless told otherwise. They
// match the SMTP tests' account, so one test can send and file a copy.
const (
	DefaultUser     = "ann@icloud.example"
	DefaultPassword = "abcd-efgh-ijkl-mnop"
)

const dovecotBin = "/usr/sbin/dovecot"

// startTimeout bounds how long StartDovecot waits for the server to greet.
const startTimeout = 15 * time.Second

// Mailbox is a folder a server holds from its start.
type Mailbox struct {
	Name string
	// SpecialUse, if set, marks the folder with an RFC 6154 attribute such
	// as `\Sent`. iCloud marks none.
	SpecialUse string
}

// ICloudMailboxes returns the folders of an iCloud Mail account, named as
// iCloud names them and none marked special-use: INBOX, "Sent Messages",
// "Drafts", "Deleted Messages", "Junk" and "Archive".
func ICloudMailboxes() []Mailbox {
	return []Mailbox{
		{Name: "INBOX"},
		{Name: "Sent Messages"},
		{Name: "Drafts"},
		{Name: "Deleted Messages"},
		{Name: "Junk"},
		{Name: "Archive"},
	}
}

// DovecotConfig describes a Dovecot server. The zero value is iCloud's
// folders for DefaultUser, with a certificate from a new CA.
type DovecotConfig struct {
	// CA signs the server's certificate (for 127.0.0.1 and localhost);
	// nil means a new one, in Dovecot.CA.
	CA *smtptest.CA
	// Users maps logins to their plaintext passwords; nil means
	// DefaultUser with DefaultPassword. Neither may contain ':' or a line
	// break.
	Users map[string]string
	// Mailboxes every user has from the start; nil means ICloudMailboxes().
	// INBOX always exists.
	Mailboxes []Mailbox
}

// Dovecot is a running Dovecot on 127.0.0.1. It listens twice: Port speaks
// TLS from the first byte (as iCloud's 993) and StartTLSPort speaks plaintext
// until STARTTLS (as 143). Neither accepts a password before TLS, with one
// exception of Dovecot's own: a connection whose two ends have the same
// address (127.0.0.1 to 127.0.0.1) counts as secure, so it may log in on
// StartTLSPort without STARTTLS. To see the refusal a remote client gets,
// connect from 127.0.0.2.
type Dovecot struct {
	Host         string // "127.0.0.1"
	Port         int    // implicit TLS
	StartTLSPort int    // STARTTLS
	// CA signed the server's certificate; a client trusts the server
	// through CA.Pool().
	CA *smtptest.CA
	// MailDir holds one Maildir per user, named by the login's part before
	// the '@' (mail_location = maildir:MailDir/%n).
	MailDir string
	// LogFile is Dovecot's log, printed when the test fails.
	LogFile string

	users map[string]string
}

// StartDovecot starts /usr/sbin/dovecot with a private configuration, waits
// until it greets on both ports, and stops it when t ends. It fails t if
// Dovecot is not installed or does not start.
//
// Dovecot runs without privileges: as the current user, or, when the test
// runs as root, as "nobody" (Dovecot refuses to serve mail as root). Its
// files live in a temporary folder of their own, since the test's may be
// closed to other users and Unix socket paths are short.
func StartDovecot(t testing.TB, cfg DovecotConfig) *Dovecot {
	t.Helper()
	if _, err := os.Stat(dovecotBin); err != nil {
		t.Fatalf("imaptest: %s not found (%v): apt-get install dovecot-imapd; make deps does", dovecotBin, err)
	}
	users := maps.Clone(cfg.Users)
	if users == nil {
		users = map[string]string{DefaultUser: DefaultPassword}
	}
	mailboxes := cfg.Mailboxes
	if mailboxes == nil {
		mailboxes = ICloudMailboxes()
	}
	ca := cfg.CA
	if ca == nil {
		var err error
		if ca, err = smtptest.NewCA("imaptest CA"); err != nil {
			t.Fatal(err)
		}
	}
	owner, err := serverUser()
	if err != nil {
		t.Fatalf("imaptest: %v", err)
	}

	base, err := os.MkdirTemp("", "dovecot-")
	if err != nil {
		t.Fatalf("imaptest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(base) }) // registered first: runs after the server stopped
	d := &Dovecot{
		Host:    "127.0.0.1",
		CA:      ca,
		MailDir: filepath.Join(base, "mail"),
		LogFile: filepath.Join(t.TempDir(), "dovecot.log"),
		users:   users,
	}
	if err := d.writeFiles(base, users, ca); err != nil {
		t.Fatalf("imaptest: %v", err)
	}
	if err := owner.chownAll(base); err != nil {
		t.Fatalf("imaptest: %v", err)
	}
	logFile, err := os.OpenFile(d.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("imaptest: %v", err)
	}
	defer logFile.Close() // the child has its own copy

	// A free port is found by binding port 0 and closing it, so another
	// process may take it before Dovecot binds it: try again then.
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			t.Fatalf("imaptest: %v", err)
		}
		d.Port, d.StartTLSPort = ports[0], ports[1]
		conf := filepath.Join(base, "dovecot.conf")
		if err := os.WriteFile(conf, []byte(d.config(base, owner, mailboxes)), 0o600); err != nil {
			t.Fatalf("imaptest: %v", err)
		}
		if err := owner.chownAll(conf); err != nil {
			t.Fatalf("imaptest: %v", err)
		}
		p, err := startProcess(owner, logFile, dovecotBin, "-F", "-c", conf)
		if err != nil {
			t.Fatalf("imaptest: starting %s: %v", dovecotBin, err)
		}
		err = d.waitReady(p)
		if err == nil {
			t.Cleanup(func() {
				p.Stop()
				if t.Failed() {
					d.printLog(t)
				}
			})
			return d
		}
		p.Stop()
		if attempt < 5 && strings.Contains(d.readLog(), "Address already in use") {
			continue
		}
		d.printLog(t)
		t.Fatalf("imaptest: Dovecot did not start: %v", err)
	}
}

// Addr is the implicit-TLS address, "127.0.0.1:PORT".
func (d *Dovecot) Addr() string { return net.JoinHostPort(d.Host, strconv.Itoa(d.Port)) }

// StartTLSAddr is the STARTTLS address, "127.0.0.1:PORT".
func (d *Dovecot) StartTLSAddr() string {
	return net.JoinHostPort(d.Host, strconv.Itoa(d.StartTLSPort))
}

// TLSConfig trusts the server's certificate and nothing else.
func (d *Dovecot) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: d.CA.Pool(), ServerName: d.Host, MinVersion: tls.VersionTLS12}
}

// Maildir is the Maildir of user.
func (d *Dovecot) Maildir(user string) string {
	local, _, _ := strings.Cut(user, "@")
	return filepath.Join(d.MailDir, local)
}

// Messages returns every message in user's mailbox, read over IMAP (with
// BODY.PEEK, so flags stay as they were), oldest first.
func (d *Dovecot) Messages(t testing.TB, user, mailbox string) []Message {
	t.Helper()
	return d.endpoint().messages(t, user, d.password(t, user), mailbox)
}

// Append files raw in user's mailbox, flagged \Seen, as a server that keeps
// its own copy of what was sent over SMTP would.
func (d *Dovecot) Append(t testing.TB, user, mailbox string, raw []byte) {
	t.Helper()
	d.endpoint().appendMessage(t, user, d.password(t, user), mailbox, raw)
}

// Folders returns user's mailboxes as LIST shows them, sorted by name.
func (d *Dovecot) Folders(t testing.TB, user string) []Folder {
	t.Helper()
	return d.endpoint().folders(t, user, d.password(t, user))
}

func (d *Dovecot) endpoint() endpoint {
	return endpoint{addr: d.Addr(), tls: d.TLSConfig()}
}

func (d *Dovecot) password(t testing.TB, user string) string {
	t.Helper()
	pw, ok := d.users[user]
	if !ok {
		t.Fatalf("imaptest: no user %q on this server", user)
	}
	return pw
}

func (d *Dovecot) writeFiles(base string, users map[string]string, ca *smtptest.CA) error {
	certPEM, keyPEM, err := ca.ServerPEM("127.0.0.1", "localhost")
	if err != nil {
		return err
	}

	var passwd strings.Builder
	for _, u := range slices.Sorted(maps.Keys(users)) {
		pw := users[u]
		if u == "" || strings.ContainsAny(u+pw, ":\r\n") {
			return fmt.Errorf("user %q or its password is empty or contains ':' or a line break", u)
		}
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s::::::\n", u, pw)
	}
	for name, data := range map[string][]byte{
		"cert.pem": certPEM,
		"key.pem":  keyPEM,
		"passwd":   []byte(passwd.String()),
	} {
		if err := os.WriteFile(filepath.Join(base, name), data, 0o600); err != nil {
			return err
		}
	}
	// Dovecot wants its base_dir world-readable (the sockets in it have
	// their own modes).
	if err := os.Mkdir(filepath.Join(base, "run"), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(base, "mail"), 0o700); err != nil {
		return err
	}
	return nil
}

// config is dovecot.conf. Everything Dovecot would otherwise take from /etc
// or need root for is set here: its own base_dir and state_dir, no chroot,
// and every service running as the one unprivileged user.
func (d *Dovecot) config(base string, owner *runUser, mailboxes []Mailbox) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("base_dir = %s", filepath.Join(base, "run"))
	line("state_dir = %s", filepath.Join(base, "run", "state"))
	line("log_path = /dev/stderr") // Dovecot writes to its inherited stderr: the log file
	line("protocols = imap")
	line("listen = %s", d.Host)
	line("default_login_user = %s", owner.name)
	line("default_internal_user = %s", owner.name)
	line("default_internal_group = %s", owner.group)
	line("first_valid_uid = 1")
	line("ssl = required")
	line("ssl_cert = <%s", filepath.Join(base, "cert.pem"))
	line("ssl_key = <%s", filepath.Join(base, "key.pem"))
	line("ssl_min_protocol = TLSv1.2")
	line("disable_plaintext_auth = yes")
	line("auth_mechanisms = plain login")
	line("auth_failure_delay = 0") // a wrong-password test need not wait 2 s
	line("mail_location = maildir:%s/%%n", d.MailDir)
	line("mail_fsync = never")
	line("passdb {\n  driver = passwd-file\n  args = %s\n}", filepath.Join(base, "passwd"))
	line("userdb {\n  driver = static\n  args = home=%s/%%n\n}", d.MailDir)
	line("service imap-login {\n  chroot =")
	line("  inet_listener imap {\n    address = %s\n    port = %d\n  }", d.Host, d.StartTLSPort)
	line("  inet_listener imaps {\n    address = %s\n    port = %d\n    ssl = yes\n  }\n}", d.Host, d.Port)
	for _, svc := range []string{"auth", "imap"} {
		line("service %s {\n  chroot =\n}", svc)
	}
	// Without its penalty socket, the auth process does not slow down
	// logins after a failed one (by 2 s, then 4 s, ...): a test may try a
	// wrong password and then the right one.
	line("service anvil {\n  chroot =\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}")
	line("namespace inbox {\n  inbox = yes\n  separator = /")
	for _, m := range mailboxes {
		line("  mailbox %q {\n    auto = subscribe", m.Name)
		if m.SpecialUse != "" {
			line("    special_use = %s", m.SpecialUse)
		}
		line("  }")
	}
	line("}")
	return b.String()
}

// waitReady waits until both listeners greet, the process exits, or
// startTimeout passes. Reading the greeting on the STARTTLS port also
// proves authentication is ready: Dovecot greets only then.
func (d *Dovecot) waitReady(p *testkit.Process) error {
	return p.WaitReady("dovecot", "greeting", startTimeout, d.greets)
}

// greets checks that both ports answer with an IMAP greeting, the
// implicit-TLS one with a certificate the CA vouches for.
func (d *Dovecot) greets() error {
	readGreeting := func(c net.Conn) error {
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "* OK") {
			return fmt.Errorf("unexpected greeting %q", line)
		}
		return nil
	}
	c, err := net.DialTimeout("tcp", d.StartTLSAddr(), time.Second)
	if err != nil {
		return err
	}
	err = readGreeting(c)
	c.Close()
	if err != nil {
		return err
	}
	c, err = net.DialTimeout("tcp", d.Addr(), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	return readGreeting(tls.Client(c, d.TLSConfig()))
}

func (d *Dovecot) readLog() string {
	data, _ := os.ReadFile(d.LogFile)
	return string(data)
}

func (d *Dovecot) printLog(t testing.TB) {
	t.Helper()
	t.Logf("imaptest: Dovecot's log (%s):\n%s", d.LogFile, d.readLog())
}

// freePorts returns n distinct ports that were free a moment ago on
// 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var (
		ports []int
		lns   []net.Listener
	)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// runUser is the user the server runs as.
type runUser struct {
	name, group string
	uid, gid    int
	switchTo    bool // whether to switch to it: only when running as root
}

// serverUser is the current user, or "nobody" for root.
func serverUser() (*runUser, error) {
	var (
		u   *user.User
		err error
	)
	switchTo := os.Geteuid() == 0
	if switchTo {
		u, err = user.Lookup("nobody")
	} else {
		u, err = user.Current()
	}
	if err != nil {
		return nil, fmt.Errorf("no user to run the server as: %w", err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("no group for user %s: %w", u.Username, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user %s: %w", u.Username, err)
	}
	return &runUser{name: u.Username, group: g.Name, uid: uid, gid: gid, switchTo: switchTo}, nil
}

// chownAll gives path and everything under it to the user, when the
// server runs as another user than the test.
func (u *runUser) chownAll(path string) error {
	if !u.switchTo {
		return nil
	}
	return filepath.Walk(path, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, u.uid, u.gid)
	})
}

// startProcess starts Dovecot as u, in a process group of its own
// (Dovecot's children with it when it is stopped).
func startProcess(u *runUser, log *os.File, name string, args ...string) (*testkit.Process, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	cmd.SysProcAttr = sysProcAttr(u)
	return testkit.Start(cmd)
}
