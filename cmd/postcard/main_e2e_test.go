package main

// End-to-end tests: the postcard binary, run as a subprocess with a private
// HOME, against smtptest servers on 127.0.0.1 whose certificates come from a
// test CA given to the binary through SSL_CERT_FILE, and a real keychain.
//
// They need a throwaway keyring, so they run only with POSTCARD_TEST_KEYRING=1,
// which .ci/with-keyring.sh (used by make test) sets inside a private D-Bus
// session with an unlocked gnome-keyring.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/smtptest"
)

// e2e is what TestMain sets up once for all end-to-end tests.
var e2e struct {
	enabled bool
	bin     string // the postcard binary
	caFile  string // the test CA, for SSL_CERT_FILE
	ca      *smtptest.CA
	err     error // why the setup failed, reported by every test
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if os.Getenv("POSTCARD_TEST_KEYRING") != "1" {
		return m.Run()
	}
	e2e.enabled = true
	dir, err := os.MkdirTemp("", "postcard-e2e-")
	if err != nil {
		e2e.err = err
		return m.Run()
	}
	defer os.RemoveAll(dir)
	e2e.err = setupE2E(dir)
	return m.Run()
}

func setupE2E(dir string) error {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return errors.New("POSTCARD_TEST_KEYRING=1 but DBUS_SESSION_BUS_ADDRESS is unset: run the tests through .ci/with-keyring.sh")
	}
	ca, err := smtptest.NewCA("postcard e2e test CA")
	if err != nil {
		return err
	}
	e2e.ca = ca
	if e2e.caFile, err = ca.WriteFile(dir); err != nil {
		return err
	}
	e2e.bin = filepath.Join(dir, "postcard")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", e2e.bin, ".").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// e2eEnv is one test's private world: HOME, config folder, a username of
// its own in the shared keyring.
type e2eEnv struct {
	home     string
	user     string
	password string
	// systemRoots, if set, runs postcard without SSL_CERT_FILE: it trusts
	// the system's roots alone, which do not hold the test CA.
	systemRoots bool
}

// e2eCA skips t unless the end-to-end tests are on, and returns the test CA.
func e2eCA(t *testing.T) *smtptest.CA {
	t.Helper()
	if !e2e.enabled {
		t.Skip("end-to-end test: needs a throwaway keyring; make test runs it (.ci/with-keyring.sh sets POSTCARD_TEST_KEYRING=1)")
	}
	if e2e.err != nil {
		t.Fatalf("end-to-end setup: %v", e2e.err)
	}
	return e2e.ca
}

func newE2E(t *testing.T) *e2eEnv {
	t.Helper()
	e2eCA(t)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"))
	env := &e2eEnv{
		home:     t.TempDir(),
		user:     name + "@example.com",
		password: "pw-" + hex.EncodeToString(b[:]),
	}
	t.Cleanup(func() {
		// The keyring outlives the test: leave nothing behind in it.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = (mailer.Keychain{}).Delete(ctx, env.user)
	})
	return env
}

// server starts an smtptest server with the test CA's certificate for
// 127.0.0.1 that knows env's user and password.
func (env *e2eEnv) server(t *testing.T, cfg smtptest.Config) *smtptest.Server {
	t.Helper()
	if cfg.Mode != smtptest.NoTLS && len(cfg.Cert.Certificate) == 0 {
		cert, err := e2e.ca.ServerCert("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Cert = cert
	}
	if cfg.Users == nil {
		cfg.Users = map[string]string{env.user: env.password}
	}
	srv, err := smtptest.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// environ is the whole environment postcard runs with: env's HOME and
// config folder, the test CA and the throwaway keyring's bus, nothing else.
func (env *e2eEnv) environ() []string {
	vars := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + env.home,
		"XDG_CONFIG_HOME=" + env.configDir(),
		"DBUS_SESSION_BUS_ADDRESS=" + os.Getenv("DBUS_SESSION_BUS_ADDRESS"),
	}
	if !env.systemRoots {
		vars = append(vars, "SSL_CERT_FILE="+e2e.caFile)
	}
	return vars
}

func (env *e2eEnv) configDir() string {
	return filepath.Join(env.home, ".config")
}

type runResult struct {
	code           int
	stdout, stderr string
}

// run runs postcard with args and stdin, and checks what every run must
// hold: the password never appears in its output, and with --json stdout is
// exactly one JSON object.
func (env *e2eEnv) run(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	return env.runWith(t, stdin, nil, args...)
}

// runWith is run that calls during, if not nil, once postcard has started.
func (env *e2eEnv) runWith(t *testing.T, stdin string, during func(*os.Process), args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e2e.bin, args...)
	cmd.Env = env.environ()
	cmd.Dir = env.home
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("postcard %s: %v", strings.Join(args, " "), err)
	}
	if during != nil {
		during(cmd.Process)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("postcard %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("postcard %s: still running after 60 s\nstderr:\n%s", strings.Join(args, " "), stderr.String())
	}
	r := runResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	t.Logf("$ postcard %s\n# exit %d\n# stdout:\n%s# stderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	if strings.Contains(r.stdout+r.stderr, env.password) {
		t.Errorf("postcard %s printed the password", strings.Join(args, " "))
	}
	if hasJSONFlag(args) {
		r.json(t)
	}
	return r
}

// json returns stdout as the one JSON object it must be.
func (r runResult) json(t *testing.T) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, r.stdout)
	}
	if dec.More() || strings.TrimSpace(r.stdout[dec.InputOffset():]) != "" {
		t.Fatalf("stdout holds more than one JSON object:\n%s", r.stdout)
	}
	return m
}

func (r runResult) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// wantFailure checks a --json failure: its exit code, kind and stage.
func (r runResult) wantFailure(t *testing.T, code int, kind mailer.Kind, stage mailer.Stage) map[string]any {
	t.Helper()
	r.wantCode(t, code)
	m := r.json(t)
	if m["ok"] != false || m["kind"] != string(kind) || m["stage"] != string(stage) {
		t.Errorf("result = %v, want ok false, kind %s, stage %s", m, kind, stage)
	}
	if s, _ := m["hint"].(string); s == "" {
		t.Errorf("result has no hint: %v", m)
	}
	if s, _ := m["error"].(string); s == "" {
		t.Errorf("result has no error: %v", m)
	}
	return m
}

// login saves the account for srv with env's password, checked against the
// server unless extra says --no-verify.
func (env *e2eEnv) login(t *testing.T, srv *smtptest.Server, extra ...string) {
	t.Helper()
	args := append([]string{"login", "--host", "127.0.0.1", "--port", fmt.Sprint(srv.Port()),
		"--username", env.user, "--password-stdin"}, extra...)
	env.run(t, env.password+"\n", args...).wantCode(t, 0)
}

func (env *e2eEnv) accountFile() string {
	return filepath.Join(env.configDir(), "postcard", mailer.AccountFile)
}

// storedPassword returns what the keychain holds for env's user, "" if
// nothing.
func (env *e2eEnv) storedPassword(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pw, err := (mailer.Keychain{}).Get(ctx, env.user)
	if errors.Is(err, mailer.ErrPasswordNotFound) {
		return ""
	}
	if err != nil {
		t.Fatalf("reading the keychain: %v", err)
	}
	return pw
}

// wantPasswordInNoFile walks the private HOME and fails if any file holds
// the password.
func (env *e2eEnv) wantPasswordInNoFile(t *testing.T) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(env.home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(env.password)) {
			t.Errorf("%s holds the password", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Error("no file under the private HOME: the walk looked in the wrong place")
	}
}

func TestE2E_LoginCheckSend(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})

	r := env.run(t, env.password+"\r\n", "login", "--host", "127.0.0.1", "--port", fmt.Sprint(srv.Port()),
		"--username", env.user, "--name", "Test Sender", "--password-stdin")
	r.wantCode(t, 0)
	for _, want := range []string{"✓ resolve    127.0.0.1", "✓ tls", "✓ login"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("login progress lacks %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "Saved.") {
		t.Errorf("login stdout = %q", r.stdout)
	}
	fi, err := os.Stat(env.accountFile())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("account file mode %v, want 0600", fi.Mode().Perm())
	}
	a, err := mailer.LoadAccount(filepath.Dir(env.accountFile()))
	if err != nil {
		t.Fatal(err)
	}
	if a.Host != "127.0.0.1" || a.Port != srv.Port() || a.Security != mailer.StartTLS || a.Username != env.user || a.DisplayName != "Test Sender" {
		t.Errorf("saved account %+v", a)
	}
	if got := env.storedPassword(t); got != env.password {
		t.Errorf("keychain holds %q, want the password without line end", got)
	}
	if attempts := srv.AuthAttempts(); len(attempts) != 1 || !attempts[0].OK || !attempts[0].TLS || attempts[0].Mech != "PLAIN" {
		t.Errorf("auth attempts %+v, want one PLAIN over TLS", attempts)
	}

	r = env.run(t, "", "check", "--json")
	r.wantCode(t, 0)
	m := r.json(t)
	if m["ok"] != true {
		t.Errorf("check: %v", m)
	}
	if stages, _ := m["stages"].([]any); len(stages) < 5 {
		t.Errorf("check stages %v, want resolve, connect, greeting, tls, login", m["stages"])
	}

	r = env.run(t, "", "send", "--json", "--to", "Ann <ann@example.org>; bob@example.org", "--to", "carol@example.org",
		"--bcc", "dan@example.org", "--subject", "Grüße aus dem Test", "--body", "Hello from the e2e test.")
	r.wantCode(t, 0)
	m = r.json(t)
	agreesWithREADME(t, "On success:", m)
	id, _ := m["message_id"].(string)
	if m["ok"] != true || !strings.HasSuffix(id, "@example.com") {
		t.Errorf("send result %v, want ok and a message id in the sender's domain", m)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != env.user || strings.Join(got.To, ",") != "ann@example.org,bob@example.org,carol@example.org,dan@example.org" || !got.TLS {
		t.Errorf("envelope from %s to %v (TLS %v)", got.From, got.To, got.TLS)
	}
	data := string(got.Data)
	for _, want := range []string{"Message-ID: <" + id + ">", "Hello from the e2e test.", "Test Sender"} {
		if !strings.Contains(data, want) {
			t.Errorf("message lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(data, "dan@example.org") {
		t.Errorf("Bcc address in the message:\n%s", data)
	}

	// The human form of the same.
	r = env.run(t, "", "send", "--to", "ann@example.org", "--body", "no subject")
	r.wantCode(t, 0)
	if !regexp.MustCompile(`^Sent to ann@example.org \(Message-ID <[^>]+@example.com>\)\n$`).MatchString(r.stdout) {
		t.Errorf("stdout = %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "warning: the subject is empty") {
		t.Errorf("stderr = %q, want the empty subject warning", r.stderr)
	}

	env.wantPasswordInNoFile(t)
}

func TestE2E_LoginWrongPassword(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})

	r := env.run(t, "not-the-app-password\n", "login", "--json", "--host", "127.0.0.1", "--port", fmt.Sprint(srv.Port()),
		"--username", env.user, "--password-stdin")
	m := r.wantFailure(t, 77, mailer.KindAuth, mailer.StageLogin)
	agreesWithREADME(t, "On failure,", m)
	if !strings.Contains(m["hint"].(string), "app-specific password") {
		t.Errorf("hint %q does not mention the app-specific password", m["hint"])
	}
	if reply, _ := m["reply"].(string); !strings.HasPrefix(reply, "535 5.7.8") {
		t.Errorf("reply %q, want the server's 535", reply)
	}
	if !strings.Contains(r.stderr, "✗ login") {
		t.Errorf("stderr lacks the failed stage:\n%s", r.stderr)
	}
	if _, err := os.Stat(env.accountFile()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("account file after a failed login: %v", err)
	}
	if pw := env.storedPassword(t); pw != "" {
		t.Error("a password that failed to log in was stored")
	}

	// The human form says the same on stderr.
	r = env.run(t, "not-the-app-password\n", "login", "--host", "127.0.0.1", "--port", fmt.Sprint(srv.Port()),
		"--username", env.user, "--password-stdin")
	r.wantCode(t, 77)
	if !strings.Contains(r.stderr, "postcard: mailer: login: 535 5.7.8") || !strings.Contains(r.stderr, "hint: iCloud needs an app-specific password") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
}

func TestE2E_SendRecipientRejected(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{
		Mode: smtptest.StartTLS,
		OnRcpt: func(to string) *smtp.SMTPError {
			if to == "nobody@example.org" {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "nobody@example.org: Recipient address rejected: User unknown"}
			}
			return nil
		},
	})
	env.login(t, srv)
	r := env.run(t, "", "send", "--json", "--to", "ann@example.org, nobody@example.org", "--subject", "hi", "--body", "x")
	m := r.wantFailure(t, 70, mailer.KindRecipientRejected, mailer.StageRcpt)
	if rej, _ := m["rejected"].([]any); len(rej) != 1 || rej[0] != "nobody@example.org" {
		t.Errorf("rejected = %v, want [nobody@example.org]", m["rejected"])
	}
	if reply, _ := m["reply"].(string); !strings.HasPrefix(reply, "550 5.1.1") {
		t.Errorf("reply %q", reply)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server got %d messages, want none", n)
	}
}

func TestE2E_SendOverrideConnectRefused(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	env.login(t, srv)
	addr, err := smtptest.RefusedAddr()
	if err != nil {
		t.Fatal(err)
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	r := env.run(t, "", "send", "--json", "--host", "127.0.0.1", "--port", port, "--to", "ann@example.org", "--subject", "hi", "--body", "x")
	r.wantFailure(t, 69, mailer.KindConnectRefused, mailer.StageConnect)
	if srv.Sessions() != 1 { // the login's check only
		t.Errorf("the saved server saw %d sessions, want 1", srv.Sessions())
	}
	// The override was for one run: the saved account is unchanged.
	a, err := mailer.LoadAccount(filepath.Dir(env.accountFile()))
	if err != nil || a.Port != srv.Port() {
		t.Errorf("saved account %+v, %v", a, err)
	}
}

func TestE2E_SendAuthFailure(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	// The keychain holds a password the server no longer takes, as after
	// the app-specific password was revoked.
	env.password = "revoked-" + env.password
	env.login(t, srv, "--no-verify")
	r := env.run(t, "", "send", "--json", "--to", "ann@example.org", "--subject", "hi", "--body", "x")
	r.wantFailure(t, 77, mailer.KindAuth, mailer.StageLogin)
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server got %d messages", n)
	}
}

func TestE2E_SendMissingAttachment(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	env.login(t, srv, "--no-verify")
	missing := filepath.Join(env.home, "report.pdf")
	r := env.run(t, "", "send", "--json", "--to", "ann@example.org", "--subject", "report", "--body", "attached", "--attach", missing)
	m := r.wantFailure(t, 65, mailer.KindInvalidMessage, mailer.StageValidate)
	if !strings.Contains(m["error"].(string), "report.pdf") {
		t.Errorf("error %q does not name the file", m["error"])
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("server saw %d connections, want none", n)
	}
}

func TestE2E_SendBodyFromStdinWithAttachment(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	env.login(t, srv)
	att := filepath.Join(env.home, "notes.txt")
	if err := os.WriteFile(att, []byte("attached notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	body := "First line from stdin.\nSecond line.\n"
	r := env.run(t, body, "send", "--json", "--to", "ann@example.org", "--subject", "stdin", "--body-file", "-", "--attach", att)
	r.wantCode(t, 0)
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	data := string(msgs[0].Data)
	for _, want := range []string{"First line from stdin.\r\nSecond line.", `filename="notes.txt"`} {
		if !strings.Contains(data, want) {
			t.Errorf("message lacks %q:\n%s", want, data)
		}
	}
}

func TestE2E_ImplicitTLS(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.ImplicitTLS})
	env.login(t, srv, "--security", "ssl")
	a, err := mailer.LoadAccount(filepath.Dir(env.accountFile()))
	if err != nil || a.Security != mailer.ImplicitTLS || a.Port != srv.Port() {
		t.Fatalf("saved account %+v, %v", a, err)
	}
	r := env.run(t, "", "send", "--json", "--to", "ann@example.org", "--subject", "over 465", "--body", "x")
	r.wantCode(t, 0)
	msgs := srv.Messages()
	if len(msgs) != 1 || !msgs[0].TLS {
		t.Fatalf("server got %+v, want one message over TLS", msgs)
	}

}

// Ctrl+C cancels a send in progress: postcard stops at once and says
// nothing was sent.
func TestE2E_SendInterrupted(t *testing.T) {
	env := newE2E(t)
	reached := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := env.server(t, smtptest.Config{
		Mode: smtptest.StartTLS,
		OnRcpt: func(string) *smtp.SMTPError {
			select {
			case reached <- struct{}{}:
			default:
			}
			<-release // the server never answers RCPT
			return nil
		},
	})
	t.Cleanup(func() { close(release) }) // before the server's Close
	env.login(t, srv)

	r := env.runWith(t, "", func(p *os.Process) {
		select {
		case <-reached:
		case <-time.After(30 * time.Second):
			t.Error("postcard never reached RCPT")
		}
		if err := p.Signal(os.Interrupt); err != nil {
			t.Error(err)
		}
	}, "send", "--json", "--to", "ann@example.org", "--subject", "hi", "--body", "x")
	m := r.wantFailure(t, 75, mailer.KindCancelled, mailer.StageRcpt)
	if !strings.Contains(m["hint"].(string), "not sent") {
		t.Errorf("hint %q does not say the message was not sent", m["hint"])
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server got %d messages", n)
	}
}

// Where the connection cannot be secured, the password is never sent.
func TestE2E_TLSFailures(t *testing.T) {
	otherName, err := e2eCA(t).ServerCert("mail.example.net")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		cfg         smtptest.Config
		systemRoots bool
		kind        mailer.Kind
	}{
		{"stripped STARTTLS", smtptest.Config{Mode: smtptest.NoTLS}, false, mailer.KindTLSUnavailable},
		{"certificate for another host", smtptest.Config{Mode: smtptest.StartTLS, Cert: otherName}, false, mailer.KindTLSCertificate},
		// Without SSL_CERT_FILE postcard reads the distribution's bundle
		// (mailer.TrustedRoots), which does not hold the test CA.
		{"authority not in the system's bundle", smtptest.Config{Mode: smtptest.StartTLS}, true, mailer.KindTLSCertificate},
		{"authority not in the system's bundle, port 465", smtptest.Config{Mode: smtptest.ImplicitTLS}, true, mailer.KindTLSCertificate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newE2E(t)
			env.systemRoots = tt.systemRoots
			srv := env.server(t, tt.cfg)
			security := "starttls"
			if tt.cfg.Mode == smtptest.ImplicitTLS {
				security = "ssl"
			}
			r := env.run(t, env.password+"\n", "login", "--json", "--host", "127.0.0.1", "--port", fmt.Sprint(srv.Port()),
				"--security", security, "--username", env.user, "--password-stdin")
			r.wantFailure(t, 76, tt.kind, mailer.StageTLS)
			if a := srv.AuthAttempts(); len(a) != 0 {
				t.Errorf("the password was sent: %+v", a)
			}
			if _, err := os.Stat(env.accountFile()); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("account saved after a failed login: %v", err)
			}
		})
	}
}

func TestE2E_Logout(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	env.login(t, srv)
	r := env.run(t, "", "logout")
	r.wantCode(t, 0)
	if !strings.Contains(r.stdout, "Removed the password for "+env.user) {
		t.Errorf("stdout = %q", r.stdout)
	}
	if pw := env.storedPassword(t); pw != "" {
		t.Error("the password is still in the keychain after logout")
	}
	if _, err := os.Stat(env.accountFile()); err != nil {
		t.Errorf("account file gone after logout: %v", err)
	}
	r = env.run(t, "", "check", "--json")
	m := r.wantFailure(t, 78, mailer.KindKeychain, mailer.StageKeychain)
	if !strings.Contains(m["error"].(string), "no password is stored") || !strings.Contains(m["hint"].(string), "postcard login") {
		t.Errorf("error %q, hint %q: want no password stored, run postcard login", m["error"], m["hint"])
	}

	r = env.run(t, "", "logout")
	r.wantCode(t, 0)
	if !strings.Contains(r.stdout, "No password was stored") {
		t.Errorf("second logout: %q", r.stdout)
	}
}

// A new username moves the secret: the old entry does not stay behind.
func TestE2E_LoginNewUsername(t *testing.T) {
	env := newE2E(t)
	old := env.user
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS,
		Users: map[string]string{env.user: env.password, "new-" + env.user: env.password}})
	env.login(t, srv)
	env.user = "new-" + old
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = (mailer.Keychain{}).Delete(ctx, env.user)
	})
	env.login(t, srv)
	if got := env.storedPassword(t); got != env.password {
		t.Errorf("new entry holds %q", got)
	}
	env.user = old
	if got := env.storedPassword(t); got != "" {
		t.Errorf("the old username's password is still stored")
	}
}

// The Outbox from the command line: a queued message goes at once when it
// can, waits when the network is away, is sent with the account as it is
// at the time of sending, and everything sent is listed in Sent.
func TestE2E_QueueOutboxSent(t *testing.T) {
	env := newE2E(t)
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	env.login(t, srv)

	r := env.run(t, "", "send", "--queue", "--json", "--to", "bob@example.org", "--bcc", "Dan <dan@example.com>", "--subject", "queued", "--body", "hi")
	r.wantCode(t, 0)
	m := r.json(t)
	if m["ok"] != true || m["state"] != "sent" || m["id"] == "" || m["message_id"] == "" {
		t.Fatalf("send --queue = %v", m)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("server got %d messages", n)
	}
	r = env.run(t, "", "send", "--json", "--to", "carol@example.net", "--subject", "immediate", "--body", "hi")
	r.wantCode(t, 0)

	r = env.run(t, "", "sent", "--json")
	r.wantCode(t, 0)
	sent, _ := r.json(t)["sent"].([]any)
	if len(sent) != 2 {
		t.Fatalf("sent lists %d messages: %s", len(sent), r.stdout)
	}
	subjects := map[string]map[string]any{}
	for _, s := range sent {
		it := s.(map[string]any)
		subjects[it["subject"].(string)] = it
	}
	if bcc, _ := subjects["queued"]["bcc"].([]any); len(bcc) != 1 || bcc[0] != "Dan <dan@example.com>" {
		t.Errorf("the Sent record of the queued message lacks its Bcc: %v", subjects["queued"])
	}
	if subjects["immediate"] == nil {
		t.Errorf("the immediate send is not in Sent: %s", r.stdout)
	}

	// The server goes away: the message waits.
	port := srv.Port()
	srv.Close()
	r = env.run(t, "", "send", "--queue", "--json", "--to", "bob@example.org", "--subject", "later", "--body", "hi")
	r.wantCode(t, 0)
	m = r.json(t)
	if m["state"] != "waiting" || m["kind"] != string(mailer.KindConnectRefused) {
		t.Fatalf("send --queue with the server down = %v", m)
	}
	waitingID := m["id"].(string)
	r = env.run(t, "", "outbox", "--json")
	r.wantCode(t, 0)
	ob, _ := r.json(t)["outbox"].([]any)
	if len(ob) != 1 {
		t.Fatalf("outbox = %s", r.stdout)
	}
	it := ob[0].(map[string]any)
	if it["id"] != waitingID || it["state"] != "waiting" || it["attempts"] != 1.0 || it["hint"] == "" || it["message_id"] == "" {
		t.Errorf("outbox item %v", it)
	}
	env.run(t, "", "outbox", "send").wantCode(t, exitTempFail)

	// Fixing the account fixes the queue: a new server, a new port.
	srv2 := env.server(t, smtptest.Config{Mode: smtptest.StartTLS})
	if srv2.Port() == port {
		t.Skip("the new server got the old port")
	}
	env.login(t, srv2)
	env.run(t, "", "outbox", "send").wantCode(t, 0)
	if n := len(srv2.Messages()); n != 1 {
		t.Fatalf("the new server got %d messages", n)
	}
	r = env.run(t, "", "outbox", "--json")
	if ob, _ := r.json(t)["outbox"].([]any); len(ob) != 0 {
		t.Errorf("outbox after sending: %s", r.stdout)
	}

	// A refused password needs the user: never retried on its own.
	srv3 := env.server(t, smtptest.Config{Mode: smtptest.StartTLS, Users: map[string]string{env.user: "another"}})
	env.login(t, srv3, "--no-verify")
	r = env.run(t, "", "send", "--queue", "--json", "--to", "bob@example.org", "--subject", "refused", "--body", "hi")
	m = r.wantFailure(t, exitNoPerm, mailer.KindAuth, mailer.StageLogin)
	if m["state"] != "needs-attention" || m["id"] == "" {
		t.Errorf("send --queue with a refused password = %v", m)
	}
	env.run(t, "", "outbox", "send").wantCode(t, exitSoftware)
	if at := srv3.AuthAttempts(); len(at) != 1 {
		t.Errorf("the message that needs attention was retried: %d logins", len(at))
	}
	env.run(t, "", "outbox", "delete", m["id"].(string), "--json").wantCode(t, 0)
	env.run(t, "", "outbox", "delete", m["id"].(string)).wantCode(t, exitDataErr)
	env.run(t, "", "outbox", "send").wantCode(t, 0)
	env.wantPasswordInNoFile(t)
}

// agreesWithREADME checks the README's --json example that follows the
// text after against real output m: every field the README shows is in
// the output with the same JSON type, and a string the README shows in
// angle brackets (or without) is so in the output too.
func agreesWithREADME(t *testing.T, after string, m map[string]any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, after)
	if i < 0 {
		t.Fatalf("README has no %q", after)
	}
	rest := text[i:]
	start := strings.Index(rest, "```json\n")
	if start < 0 {
		t.Fatalf("README has no json example after %q", after)
	}
	rest = rest[start+len("```json\n"):]
	block, _, _ := strings.Cut(rest, "```")
	var example map[string]any
	if err := json.Unmarshal([]byte(block), &example); err != nil {
		t.Fatalf("README's example after %q is not JSON: %v\n%s", after, err, block)
	}
	for k, want := range example {
		got, ok := m[k]
		if !ok {
			t.Errorf("README's example after %q shows %q, which the output lacks: %v", after, k, m)
			continue
		}
		if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
			t.Errorf("README shows %q as %T, the output has %T", k, want, got)
		}
		ws, _ := want.(string)
		gs, _ := got.(string)
		if strings.HasPrefix(ws, "<") != strings.HasPrefix(gs, "<") {
			t.Errorf("README shows %q as %q, the output as %q: the angle brackets disagree", k, ws, gs)
		}
	}
}
