//go:build bench

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/mailer"
)

// attachmentSize is the size of the large case's attachment.
const attachmentSize = 10 << 20

const benchBody = `Hello,

this message was sent by Postcard's benchmark to a server on 127.0.0.1.
It is a few lines of plain text, like a short note.

Regards,
the benchmark
`

// procRun is one run of a command-line program.
type procRun struct {
	wall      time.Duration // from exec to exit
	maxRSSKiB int64         // peak RSS, when asked for
	exit      int
	stdout    []byte
	stderr    []byte
}

// gnuTime is GNU time, which measures a program's peak RSS where the driver
// cannot: Go starts children with clone(CLONE_VM|CLONE_VFORK), and Linux
// then counts the driver's own RSS at the moment of exec into the child's
// ru_maxrss (ProcessState.SysUsage), so every child would seem to peak at
// least at the driver's size. GNU time forks a copy of itself (about 1 MiB)
// instead.
const gnuTime = "/usr/bin/time"

// runProc runs bin and waits for it, at most timeout. With peakRSS it runs
// it under GNU time to measure its peak RSS; the wall time then includes
// GNU time's fork, about a millisecond, for every program alike.
func runProc(timeout time.Duration, bin string, args, env []string, peakRSS bool, work string) (procRun, error) {
	var r procRun
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var rssFile string
	if peakRSS {
		rssFile = filepath.Join(work, "maxrss.txt")
		args = append([]string{"-q", "-f", "%M", "-o", rssFile, bin}, args...)
		bin = gnuTime
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r.wall = time.Since(start)
	r.stdout, r.stderr = stdout.Bytes(), stderr.Bytes()
	if ctx.Err() != nil {
		return r, fmt.Errorf("%s did not finish within %s", filepath.Base(bin), timeout)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
	case err != nil:
		return r, err
	}
	if peakRSS {
		b, err := os.ReadFile(rssFile)
		if err != nil {
			return r, fmt.Errorf("GNU time: %w", err)
		}
		if r.maxRSSKiB, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
			return r, fmt.Errorf("GNU time wrote %q: %w", b, err)
		}
	}
	return r, nil
}

// writeRandomFile writes n random bytes to path, the same bytes every time
// (a fixed seed): incompressible, like a photo.
func writeRandomFile(path string, n int) error {
	buf := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{'p', 'o', 's', 't', 'c', 'a', 'r', 'd'})
	_, _ = rng.Read(buf)
	return os.WriteFile(path, buf, 0o600)
}

// sendCase is one message sent by both postcard and curl.
type sendCase struct {
	name    string
	msg     mailer.Message
	goal    float64 // the most postcard's wall time may be, in curl's
	timeout time.Duration
}

// send times postcard send and curl sending the same message to the same
// loopback STARTTLS server, alternately.
func (b *bench) send() error {
	attach := filepath.Join(b.work, "random-10MiB.bin")
	if err := writeRandomFile(attach, attachmentSize); err != nil {
		return err
	}
	cases := []sendCase{
		{name: "small message", goal: 2, timeout: 30 * time.Second,
			msg: mailer.Message{To: []string{b.rcpt}, Subject: "Benchmark: a small message", Body: benchBody}},
		{name: "10 MiB attachment", goal: 1.3, timeout: 2 * time.Minute,
			msg: mailer.Message{To: []string{b.rcpt}, Subject: "Benchmark: a 10 MiB attachment", Body: benchBody,
				Attachments: []string{attach}}},
	}
	var samples strings.Builder
	fmt.Fprint(&samples, "`postcard send --json` (built with `-trimpath`, password from the keychain, the test CA in a folder named by `SSL_CERT_DIR`, so that Go reads the system's bundle and that folder, as much as a user's postcard reads; curl reads only `ca.pem`) and `curl --ssl-reqd --cacert ca.pem --user … --upload-file msg.eml smtp://127.0.0.1:PORT` send to one in-process go-smtp server (STARTTLS, AUTH PLAIN, which counts the bytes of each message and discards them), alternately, after one unmeasured run of each. `msg.eml` is the message Postcard's mailer writes for the same input (`mailer.Prepare` and `WriteTo`), so both upload the same bytes but for the Date and Message-ID. Wall time is from exec to exit as the driver sees it; peak RSS is GNU time's %M (`/usr/bin/time -f %M`, around both programs alike), not the driver's own `ProcessState.SysUsage()`: Go starts children with clone(CLONE_VM|CLONE_VFORK), and Linux then counts the driver's RSS at the moment of exec into the child's ru_maxrss, which made curl seem to peak at over 100 MiB.\n\n")
	samples.WriteString("| message | bytes uploaded | program | wall time, each run (ms) | peak RSS, each run (MiB) |\n|---|---|---|---|---|\n")
	for _, c := range cases {
		pc, curl, size, err := b.sendCase(c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		b.ratioRow("Send, "+c.name+": wall time", pc, curl, "curl", c.goal)
		pr, cr := median(pluck(pc, procRun.peakRSS)), median(pluck(curl, procRun.peakRSS))
		b.rep.add(row{
			figure:   "Send, " + c.name + ": peak RSS",
			postcard: fmt.Sprintf("%.1f MiB", mib(pr)), anchor: fmt.Sprintf("%.1f MiB curl", mib(cr)),
			ratio: fmt.Sprintf("%.1f×", float64(pr)/float64(cr)), goal: "≤ 64 MiB", met: mib(pr) <= 64,
		})
		for _, side := range []struct {
			name string
			runs []procRun
		}{{"postcard", pc}, {"curl", curl}} {
			var w, r []string
			for _, x := range side.runs {
				w = append(w, fmt.Sprintf("%.1f", float64(x.wall)/1e6))
				r = append(r, fmt.Sprintf("%.1f", mib(x.maxRSSKiB)))
			}
			fmt.Fprintf(&samples, "| %s | %d | %s | %s | %s |\n", c.name, size, side.name, strings.Join(w, " "), strings.Join(r, " "))
		}
	}
	b.rep.section("Sending", samples.String())
	return nil
}

// sendCase runs c b.opts.runs times with each program and returns the runs
// and the size of the message.
func (b *bench) sendCase(c sendCase) (postcard, curl []procRun, size int64, err error) {
	return b.sendCaseThen(c, nil, b.cfgAccount, nil)
}

// sendCaseArgs is sendCase with more arguments for postcard send and the
// account of the config folder cfg.
func (b *bench) sendCaseArgs(c sendCase, extra []string, cfg string) (postcard, curl []procRun, size int64, err error) {
	return b.sendCaseThen(c, extra, cfg, nil)
}

// sendCaseThen is sendCaseArgs where, if then is set, curl runs a second
// time after each send with the arguments then gives for the message file,
// the two counted as one run.
func (b *bench) sendCaseThen(c sendCase, extra []string, cfg string, then func(eml string) []string) (postcard, curl []procRun, size int64, err error) {
	account := mailer.Account{Host: "127.0.0.1", Port: b.sendSrv.Port(), Security: mailer.StartTLS, Username: b.user}
	p, err := mailer.Prepare(account, c.msg)
	if err != nil {
		return nil, nil, 0, err
	}
	eml := filepath.Join(b.work, strings.ReplaceAll(c.name, " ", "-")+".eml")
	f, err := os.Create(eml)
	if err != nil {
		return nil, nil, 0, err
	}
	if _, err := p.WriteTo(f); err != nil {
		f.Close()
		return nil, nil, 0, err
	}
	if err := f.Close(); err != nil {
		return nil, nil, 0, err
	}

	pcArgs := append([]string{"send", "--to", b.rcpt, "--subject", c.msg.Subject, "--body", c.msg.Body, "--json"}, extra...)
	for _, a := range c.msg.Attachments {
		pcArgs = append(pcArgs, "--attach", a)
	}
	pcEnv := env("XDG_CONFIG_HOME="+cfg, "SSL_CERT_DIR="+b.caDir)
	// The password on curl's command line is the throwaway one of the
	// private keychain; postcard reads it from the keychain, as for a user.
	curlArgs := []string{"--silent", "--show-error", "--ssl-reqd", "--cacert", b.caFile,
		"--user", b.user + ":" + b.password, "--mail-from", b.user, "--mail-rcpt", b.rcpt,
		"--upload-file", eml, fmt.Sprintf("smtp://127.0.0.1:%d", b.sendSrv.Port())}

	one := func(name string, bin string, args, env []string, want int64) (procRun, error) {
		before := len(b.sendSrv.Messages())
		r, err := runProc(c.timeout, bin, args, env, true, b.work)
		if err != nil {
			return r, err
		}
		if r.exit != 0 {
			return r, fmt.Errorf("%s exited with %d: %s%s", name, r.exit, r.stdout, r.stderr)
		}
		msgs := b.sendSrv.Messages()
		if len(msgs) != before+1 {
			return r, fmt.Errorf("%s: the server received %d messages, want 1", name, len(msgs)-before)
		}
		if got := msgs[len(msgs)-1].Size; got != want {
			return r, fmt.Errorf("%s: the server received %d bytes, want %d", name, got, want)
		}
		return r, nil
	}
	emlSize := p.Size
	for i := -1; i < b.opts.runs; i++ {
		cr, err := one("curl", "curl", curlArgs, nil, emlSize)
		if err != nil {
			return nil, nil, 0, err
		}
		if then != nil {
			r2, err := runProc(c.timeout, "curl", then(eml), nil, true, b.work)
			if err == nil && r2.exit != 0 {
				err = fmt.Errorf("curl %s exited with %d: %s%s", strings.Join(then(eml), " "), r2.exit, r2.stdout, r2.stderr)
			}
			if err != nil {
				return nil, nil, 0, err
			}
			cr.wall += r2.wall
			cr.maxRSSKiB = max(cr.maxRSSKiB, r2.maxRSSKiB)
		}
		pr, err := one("postcard", b.postcard, pcArgs, pcEnv, emlSize)
		if err != nil {
			return nil, nil, 0, err
		}
		if i < 0 {
			continue // warm-up
		}
		curl, postcard = append(curl, cr), append(postcard, pr)
		fmt.Printf("run %d  %-18s  curl %8s %6.1f MiB   postcard %8s %6.1f MiB\n", i+1, c.name,
			ms(cr.wall), mib(cr.maxRSSKiB), ms(pr.wall), mib(pr.maxRSSKiB))
	}
	return postcard, curl, emlSize, nil
}

func (r procRun) wallTime() time.Duration { return r.wall }
func (r procRun) peakRSS() int64          { return r.maxRSSKiB }
