//go:build bench

// Command bench measures Postcard against its anchors, each run alternately
// with it in the same session: start-up and idle memory against a bare Fyne
// window, sending against curl, typing and pasting into a long body against
// Fyne's multi-line Entry, plus the mailer's Go benchmarks and a soak of
// sends against a server that fails at random. It prints a table and writes
// it to BENCHMARKS.md.
//
// Run it with make bench, which builds it with -tags bench (without the tag
// go install ./... leaves it and the bare window out: they are tools, not
// part of the product) and runs it under .ci/with-keyring.sh: it stores a
// throwaway password in the keychain, which must be a private one.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/mailer/smtptest"
)

// minRuns is the fewest runs of each side a median is taken over.
const minRuns = 7

type options struct {
	runs     int
	soak     int
	out      string
	parts    []string
	maxLoad  float64
	loadWait time.Duration
	display  int
	keep     bool
}

var allParts = []string{"startup", "send", "outbox", "typing", "gobench", "soak"}

func main() {
	var o options
	var parts string
	flag.IntVar(&o.runs, "runs", 9, fmt.Sprintf("runs of each side per figure (at least %d)", minRuns))
	flag.IntVar(&o.soak, "soak", 200, "sends in the soak")
	flag.StringVar(&o.out, "out", "BENCHMARKS.md", `the report to write ("" for none)`)
	flag.StringVar(&parts, "parts", strings.Join(allParts, ","), "the parts to run, separated by commas")
	flag.Float64Var(&o.maxLoad, "max-load", 1.0, "wait for the 1-minute load average to fall to this before measuring")
	flag.DurationVar(&o.loadWait, "load-wait", 2*time.Minute, "how long to wait for that at most (then measure anyway and say so)")
	flag.IntVar(&o.display, "display", 91, "the first X display number to try for the private Xvfb")
	flag.BoolVar(&o.keep, "keep", false, "keep the work folder (binaries, logs, messages)")
	flag.Parse()
	if o.runs < minRuns {
		fmt.Fprintf(os.Stderr, "bench: -runs must be at least %d\n", minRuns)
		os.Exit(2)
	}
	for _, p := range strings.Split(parts, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(allParts, p) {
			fmt.Fprintf(os.Stderr, "bench: unknown part %q (want some of %s)\n", p, strings.Join(allParts, ","))
			os.Exit(2)
		}
		o.parts = append(o.parts, p)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// bench is one run of the benchmark and what its parts share.
type bench struct {
	opts     options
	work     string // temporary folder for binaries, messages and logs
	postcard string // the postcard binary
	bare     string // the bare window binary

	ca       *smtptest.CA
	caFile   string // the test CA, alone in caDir
	caDir    string
	user     string
	password string // throwaway, in the private keychain
	rcpt     string

	cfgEmpty   string // XDG_CONFIG_HOME without an account
	cfgAccount string // XDG_CONFIG_HOME with the account saved
	// sendSrv is the server the saved account points at; the sending part
	// sends to it.
	sendSrv *smtptest.Server

	rep *report
}

func run(o options) error {
	if os.Getenv("POSTCARD_TEST_KEYRING") != "1" || os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return errors.New("run this through make bench: it stores a password in the keychain, so it needs the private one of .ci/with-keyring.sh")
	}
	if !exists("cmd/postcard") || !exists("go.mod") {
		return errors.New("run this from the root of the postcard module")
	}
	need := []string{"go"}
	if slices.Contains(o.parts, "startup") || slices.Contains(o.parts, "typing") {
		need = append(need, "Xvfb", "xdotool")
	}
	if slices.Contains(o.parts, "typing") {
		need = append(need, "xclip", "xset", "import")
	}
	if slices.Contains(o.parts, "send") || slices.Contains(o.parts, "outbox") {
		need = append(need, "curl", gnuTime)
	}
	for _, t := range need {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s not found: run make deps", filepath.Base(t))
		}
	}

	work, err := os.MkdirTemp("", "postcard-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("work folder:", work)
	} else {
		defer os.RemoveAll(work)
	}
	var pw [12]byte
	_, _ = rand.Read(pw[:])
	b := &bench{
		opts:       o,
		work:       work,
		postcard:   filepath.Join(work, "postcard"),
		bare:       filepath.Join(work, "barewindow"),
		user:       "bench@example.com",
		password:   "bench-" + hex.EncodeToString(pw[:]),
		rcpt:       "rcpt@example.org",
		cfgEmpty:   filepath.Join(work, "config-empty"),
		cfgAccount: filepath.Join(work, "config-account"),
		rep:        &report{},
	}
	for _, d := range []string{b.cfgEmpty, b.cfgAccount} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	if err := b.build(); err != nil {
		return err
	}
	if b.ca, err = smtptest.NewCA("postcard bench CA"); err != nil {
		return err
	}
	// The binaries trust the test CA through SSL_CERT_DIR, a folder holding
	// it alone: Go then reads the system's bundle and that folder, the work
	// a user's postcard does with the bundle (mailer.TrustedRoots). With
	// SSL_CERT_FILE it would read the bundle's roots one by one from
	// /etc/ssl/certs as well, which no user's postcard does.
	b.caDir = filepath.Join(work, "ca")
	if err := os.Mkdir(b.caDir, 0o700); err != nil {
		return err
	}
	if b.caFile, err = b.ca.WriteFile(b.caDir); err != nil {
		return err
	}
	// DiscardData: the server keeps the size of each message, not 10 MiB of it.
	if b.sendSrv, err = b.server(smtptest.Config{DiscardData: true}); err != nil {
		return err
	}
	defer b.sendSrv.Close()
	if err := b.login(b.sendSrv.Port()); err != nil {
		return err
	}

	b.rep.loadStart = waitQuiet(o.maxLoad, o.loadWait)
	b.rep.machine = machineInfo()
	b.rep.started = time.Now()

	for _, p := range o.parts {
		fmt.Printf("\n== %s\n", p)
		var err error
		switch p {
		case "startup":
			err = b.startup()
		case "send":
			err = b.send()
		case "outbox":
			err = b.outbox()
		case "typing":
			err = b.typing()
		case "gobench":
			err = b.goBench()
		case "soak":
			err = b.soak()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	b.rep.finished = time.Now()

	fmt.Println()
	b.rep.printTable(os.Stdout)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(b.rep.markdown()), 0o644); err != nil {
			return err
		}
		fmt.Println("\nwrote", o.out)
	}
	return nil
}

// build builds postcard and the bare window with the same toolchain and
// flags (-trimpath, as a release would be). The bare window, like the
// bench, builds only with the bench tag, which keeps both out of
// go install ./...
func (b *bench) build() error {
	for _, t := range []struct{ out, pkg, tags string }{
		{b.postcard, "./cmd/postcard", ""},
		{b.bare, "./cmd/bench/barewindow", "bench"},
	} {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		out, err := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags="+t.tags, "-o", t.out, t.pkg).CombinedOutput()
		cancel()
		if err != nil {
			return fmt.Errorf("go build %s: %v\n%s", t.pkg, err, out)
		}
		fmt.Printf("built %s in %.1f s\n", t.pkg, time.Since(start).Seconds())
	}
	return nil
}

// env returns the environment for a child: this one with the given
// variables set (and no Wayland, so that GLFW uses the private X server).
func env(set ...string) []string {
	keys := map[string]bool{"WAYLAND_DISPLAY": true}
	for _, kv := range set {
		k, _, _ := strings.Cut(kv, "=")
		keys[k] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !keys[k] {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

// login saves the account for the server on port with the password in the
// keychain, as a user would with postcard login (without the check, so that
// it also works while no server runs).
func (b *bench) login(port int) error {
	return b.loginWith(b.cfgAccount, port)
}

// loginWith saves the account in the config folder cfg, with more flags.
func (b *bench) loginWith(cfg string, port int, extra ...string) error {
	cmd := exec.Command(b.postcard, append([]string{"login", "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		"--security", "starttls", "--username", b.user, "--password-stdin", "--no-verify", "--json"}, extra...)...)
	cmd.Env = env("XDG_CONFIG_HOME="+cfg, "SSL_CERT_DIR="+b.caDir)
	cmd.Stdin = strings.NewReader(b.password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("postcard login: %v\n%s", err, out)
	}
	return nil
}

// server starts a STARTTLS server with the bench's certificate and user.
func (b *bench) server(cfg smtptest.Config) (*smtptest.Server, error) {
	cert, err := b.ca.ServerCert("127.0.0.1")
	if err != nil {
		return nil, err
	}
	cfg.Mode = smtptest.StartTLS
	cfg.Cert = cert
	cfg.Users = map[string]string{b.user: b.password}
	return smtptest.Start(cfg)
}
