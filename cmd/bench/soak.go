//go:build bench

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/mail"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postcard-mail/postcard/mailer/smtptest"
)

// soakMode is what the server does with one send of the soak, and what
// postcard must make of it.
type soakMode struct {
	name     string
	wantKind string // "" for a delivered message
	wantExit int
}

// The modes are drawn with equal odds. The first four are replies of the
// one main server, switched per send; the drops need servers of their own
// (Drop is part of smtptest.Config).
var soakModes = []soakMode{
	{name: "deliver", wantExit: 0},
	{name: "535 5.7.8 at AUTH", wantKind: "auth", wantExit: 77},
	{name: "451 4.3.0 at MAIL", wantKind: "temporary", wantExit: 75},
	{name: "550 5.1.1 at RCPT", wantKind: "recipient-rejected", wantExit: 70},
	{name: "554 5.7.1 after DATA", wantKind: "policy-rejected", wantExit: 70},
	{name: "connection reset at MAIL", wantKind: "connection-lost", wantExit: 75},
	{name: "connection reset after DATA", wantKind: "connection-lost", wantExit: 70},
}

const (
	modeAuth = 1 + iota
	modeMail
	modeRcpt
	modeData
	modeDropMail
	modeDropAfterData
)

// soakTally is what happened to the sends of one mode.
type soakTally struct {
	sent, matched int
	exits         map[int]int
}

// soak sends b.opts.soak messages in a row through the postcard binary to
// servers that fail at random (a fixed seed), and checks each diagnosis,
// each delivery, and the driver's goroutines and file descriptors.
func (b *bench) soak() error {
	var mode atomic.Int32
	fail := func(m int, code int, enh smtp.EnhancedCode, msg string) *smtp.SMTPError {
		if int(mode.Load()) != m {
			return nil
		}
		return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
	}
	mainSrv, err := b.server(smtptest.Config{
		OnAuth: func(string) *smtp.SMTPError {
			return fail(modeAuth, 535, smtp.EnhancedCode{5, 7, 8}, "Error: authentication failed")
		},
		OnMail: func(string) *smtp.SMTPError {
			return fail(modeMail, 451, smtp.EnhancedCode{4, 3, 0}, "Temporary server error. Please try again later")
		},
		OnRcpt: func(to string) *smtp.SMTPError {
			return fail(modeRcpt, 550, smtp.EnhancedCode{5, 1, 1}, "<"+to+">: Recipient address rejected: User unknown in virtual mailbox table")
		},
		OnData: func([]byte) *smtp.SMTPError {
			return fail(modeData, 554, smtp.EnhancedCode{5, 7, 1}, "[CS01] Message rejected due to local policy")
		},
	})
	if err != nil {
		return err
	}
	defer mainSrv.Close()
	dropMail, err := b.server(smtptest.Config{Drop: "mail"})
	if err != nil {
		return err
	}
	defer dropMail.Close()
	dropAfterData, err := b.server(smtptest.Config{Drop: "after-data"})
	if err != nil {
		return err
	}
	defer dropAfterData.Close()
	port := func(m int) int {
		switch m {
		case modeDropMail:
			return dropMail.Port()
		case modeDropAfterData:
			return dropAfterData.Port()
		}
		return mainSrv.Port()
	}

	pcEnv := env("XDG_CONFIG_HOME="+b.cfgAccount, "SSL_CERT_DIR="+b.caDir)
	rng := rand.New(rand.NewPCG(1, 2))
	tallies := make([]soakTally, len(soakModes))
	for i := range tallies {
		tallies[i].exits = map[int]int{}
	}
	var (
		delivered  []string // Message-IDs postcard reported as sent
		mismatches []string
		walls      []time.Duration
	)
	gBefore, fdBefore := runtime.NumGoroutine(), openFDs()
	start := time.Now()
	for i := range b.opts.soak {
		m := rng.IntN(len(soakModes))
		mode.Store(int32(m))
		args := []string{"send", "--to", b.rcpt, "--subject", fmt.Sprintf("Soak %d", i+1),
			"--body", benchBody, "--json", "--port", fmt.Sprint(port(m))}
		r, err := runProc(60*time.Second, b.postcard, args, pcEnv, false, b.work)
		if err != nil {
			return fmt.Errorf("send %d (%s): %w", i+1, soakModes[m].name, err)
		}
		walls = append(walls, r.wall)
		var res struct {
			OK        bool   `json:"ok"`
			Kind      string `json:"kind"`
			Stage     string `json:"stage"`
			MessageID string `json:"message_id"`
		}
		if err := json.Unmarshal(r.stdout, &res); err != nil {
			return fmt.Errorf("send %d: stdout is not one JSON object: %v\n%s%s", i+1, err, r.stdout, r.stderr)
		}
		t := &tallies[m]
		t.sent++
		t.exits[r.exit]++
		got := res.Kind
		if res.OK {
			got = ""
			delivered = append(delivered, strings.Trim(res.MessageID, "<>"))
		}
		if got == soakModes[m].wantKind && res.OK == (soakModes[m].wantKind == "") && r.exit == soakModes[m].wantExit {
			t.matched++
		} else if len(mismatches) < 10 {
			mismatches = append(mismatches, fmt.Sprintf("send %d, %s: got kind %q at %q, exit %d (want %q, exit %d): %s",
				i+1, soakModes[m].name, got, res.Stage, r.exit, soakModes[m].wantKind, soakModes[m].wantExit, strings.TrimSpace(string(r.stderr))))
		}
	}
	elapsed := time.Since(start)

	// The server's goroutine for the last connection may take a moment to
	// end after the client has gone.
	gAfter, fdAfter := runtime.NumGoroutine(), openFDs()
	for deadline := time.Now().Add(5 * time.Second); (gAfter > gBefore || fdAfter > fdBefore) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		gAfter, fdAfter = runtime.NumGoroutine(), openFDs()
	}

	// Every reported success must be on the server exactly once, and
	// nothing else.
	seen := map[string]int{}
	for _, msg := range mainSrv.Messages() {
		pm, err := mail.ReadMessage(bytes.NewReader(msg.Data))
		if err != nil {
			return fmt.Errorf("a delivered message does not parse: %v", err)
		}
		seen[strings.Trim(pm.Header.Get("Message-Id"), "<> ")]++
	}
	stray := len(dropMail.Messages()) + len(dropAfterData.Messages())
	once, twice, missing := 0, 0, 0
	for _, id := range delivered {
		switch seen[id] {
		case 0:
			missing++
		case 1:
			once++
		default:
			twice++
		}
		delete(seen, id)
	}
	for range seen {
		stray++ // on the server, but postcard said it failed
	}

	matched := 0
	var t strings.Builder
	fmt.Fprintf(&t, "%d sends through the postcard binary, one process each (median %s), in %.1f s. Each send's server behaviour was drawn with `rand.New(rand.NewPCG(1, 2))`; the replies come from smtptest hooks switched by the driver between sends, the resets from two more smtptest servers (`Drop: \"mail\"`, `Drop: \"after-data\"`) reached with `--port`.\n\n",
		b.opts.soak, ms(median(walls)), elapsed.Seconds())
	t.WriteString("| server told to | sends | `--json` kind wanted | kind and exit code as wanted | exit codes |\n|---|---|---|---|---|\n")
	for i, m := range soakModes {
		tl := tallies[i]
		matched += tl.matched
		want := m.wantKind
		if want == "" {
			want = "(ok)"
		}
		var exits []string
		for _, code := range slices.Sorted(maps.Keys(tl.exits)) {
			exits = append(exits, fmt.Sprintf("%d× exit %d", tl.exits[code], code))
		}
		fmt.Fprintf(&t, "| %s | %d | %s | %d | %s |\n", m.name, tl.sent, want, tl.matched, strings.Join(exits, ", "))
	}
	fmt.Fprintf(&t, "\nDelivered: %d reported sent; on the server %d exactly once, %d more than once, %d missing; %d messages on a server that postcard did not report sent.\n\n", len(delivered), once, twice, missing, stray)
	fmt.Fprintf(&t, "Driver process (which hosts the servers): %d goroutines before, %d after; %d open file descriptors before, %d after.\n", gBefore, gAfter, fdBefore, fdAfter)
	if len(mismatches) > 0 {
		t.WriteString("\nMismatches (first 10):\n\n")
		for _, m := range mismatches {
			fmt.Fprintf(&t, "- %s\n", m)
		}
	}
	b.rep.section("Soak", t.String())

	okDelivery := once == len(delivered) && stray == 0
	b.rep.add(row{
		figure:   fmt.Sprintf("Soak: %d sends, failures at random", b.opts.soak),
		postcard: fmt.Sprintf("%d of %d diagnosed as told", matched, b.opts.soak), anchor: "the kind each server was told to produce",
		ratio: fmt.Sprintf("%d/%d", matched, b.opts.soak), goal: "all", met: matched == b.opts.soak,
	})
	b.rep.add(row{
		figure:   "Soak: deliveries",
		postcard: fmt.Sprintf("%d sent, %d on the server once", len(delivered), once), anchor: "Message-IDs on the server",
		ratio: fmt.Sprintf("%d twice, %d missing, %d stray", twice, missing, stray), goal: "each exactly once", met: okDelivery,
	})
	b.rep.add(row{
		figure:   "Soak: driver goroutines / open fds",
		postcard: fmt.Sprintf("%d / %d after", gAfter, fdAfter), anchor: fmt.Sprintf("%d / %d before", gBefore, fdBefore),
		ratio: fmt.Sprintf("%+d / %+d", gAfter-gBefore, fdAfter-fdBefore), goal: "no growth", met: gAfter <= gBefore && fdAfter <= fdBefore,
	})
	fmt.Printf("soak: %d of %d as told, %d delivered once, goroutines %d→%d, fds %d→%d\n",
		matched, b.opts.soak, once, gBefore, gAfter, fdBefore, fdAfter)
	return nil
}

// openFDs counts this process's open file descriptors.
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}
