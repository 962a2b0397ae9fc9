package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/smtptest"
	"github.com/postcard-mail/postcard/mailer/store"
)

// TestCrash_KilledWhileSendingTheOutbox is the Outbox's promise on real
// parts: the postcard binary sends queued messages to a real SMTP server
// while it is killed with SIGKILL at random instants, and restarted each
// time. In the end every message was delivered exactly once, except those
// recorded as unconfirmed (delivered at most once), and none is lost.
//
// One run in three is postcard send --queue instead of postcard outbox
// send: it connects while it freezes its message and sends it over that
// session. Killed before its message reached the Outbox, it may leave it
// in Drafts (never delivered) or nowhere (it said nothing); once there,
// the message is held to the same promise, and the server never has one
// the store does not.
//
// POSTCARD_CRASH_KILLS sets the number of kills (100 by default, make
// crash-test runs 1000); POSTCARD_CRASH_SEED the seed, printed on failure.
func TestCrash_KilledWhileSendingTheOutbox(t *testing.T) {
	env := newE2E(t)
	kills := 100
	if v, err := strconv.Atoi(os.Getenv("POSTCARD_CRASH_KILLS")); err == nil && v > 0 {
		kills = v
	}
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("POSTCARD_CRASH_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("seed %d (POSTCARD_CRASH_SEED=%d reproduces the kill times)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	// The server takes a moment to answer the final dot, so that kills
	// land between the upload and the server's yes too. Its sessions run
	// on their own goroutines, with a generator of their own.
	var mu sync.Mutex
	srvRng := rand.New(rand.NewPCG(seed^0x5bd1e995, seed))
	delay := func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return time.Duration(srvRng.IntN(4000)) * time.Microsecond
	}
	srv := env.server(t, smtptest.Config{Mode: smtptest.StartTLS, OnData: func([]byte) *smtp.SMTPError {
		time.Sleep(delay())
		return nil
	}})
	env.login(t, srv, "--security", "starttls")

	dataDir := filepath.Join(env.home, ".local", "share", "postcard")
	st, err := store.Open(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	account, err := mailer.LoadAccount(filepath.Dir(env.accountFile()))
	if err != nil {
		t.Fatal(err)
	}
	queued := map[string]bool{} // Message-IDs
	enqueue := func(n int) {
		for range n {
			h, err := st.NewDraft()
			if err != nil {
				t.Fatal(err)
			}
			d := store.Draft{To: "bob@example.org", Subject: fmt.Sprintf("crash test %d", len(queued)), Body: "x\n"}
			p, err := mailer.Prepare(account, d.Message())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Queue(h, d, p, 0); err != nil {
				t.Fatal(err)
			}
			h.Release()
			queued[p.MessageID] = true
		}
	}
	waiting := func() int {
		entries, err := st.Outbox()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			if e.State == store.StateWaiting || e.State == store.StateSending {
				n++
			}
		}
		return n
	}

	// runPostcard runs postcard with args, killed with SIGKILL after
	// killAfter or, if 0, to its end, which must be one of the exit codes
	// ok.
	runPostcard := func(killAfter time.Duration, ok []int, args ...string) (killed bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, e2e.bin, args...)
		cmd.Env = env.environ()
		cmd.Dir = env.home
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		if killAfter > 0 {
			select {
			case <-done:
				return false
			case <-time.After(killAfter):
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				return true
			}
		}
		if err := <-done; err != nil && !slices.Contains(ok, cmd.ProcessState.ExitCode()) {
			t.Fatalf("postcard %s: %v", strings.Join(args, " "), err)
		}
		return false
	}
	// One run of "postcard outbox send", killed after a while or not at all.
	run := func(killAfter time.Duration) (killed bool) {
		return runPostcard(killAfter, []int{0, exitSoftware}, "outbox", "send")
	}
	// One run of "postcard send --queue" with a message of its own, whose
	// Message-ID the store or the server tells afterwards.
	const queuePrefix = "crash queue "
	nQueue := 0
	sendQueued := func(killAfter time.Duration) (killed bool) {
		nQueue++
		return runPostcard(killAfter, []int{0}, "send", "--queue", "--to", "bob@example.org",
			"--subject", fmt.Sprintf("%s%d", queuePrefix, nQueue), "--body", "x")
	}

	// How long a run takes that sends a few messages, to aim the kills.
	enqueue(3)
	start := time.Now()
	run(0)
	span := max(time.Since(start), 20*time.Millisecond)
	start = time.Now()
	sendQueued(0)
	queueSpan := max(time.Since(start), 20*time.Millisecond)
	t.Logf("an unkilled run took %v, an unkilled send --queue %v; kills land within half as long again", span, queueSpan)

	done := 0
	for done < kills {
		if waiting() < 3 {
			enqueue(4)
		}
		killed := false
		if rng.IntN(3) == 0 {
			killed = sendQueued(time.Duration(rng.Int64N(int64(queueSpan*3/2))) + time.Millisecond)
		} else {
			killed = run(time.Duration(rng.Int64N(int64(span*3/2))) + time.Millisecond)
		}
		if killed {
			done++
		}
	}
	// Send what is left, without kills: at most a few runs.
	for range 5 {
		run(0)
		if waiting() == 0 {
			break
		}
	}
	if n := waiting(); n != 0 {
		t.Fatalf("%d messages still waiting after the last runs", n)
	}

	// The messages of send --queue that reached the store join the others;
	// one the server has and the store does not is reported below as
	// nobody's. One that came back as a draft was never delivered.
	sent, err := st.Sent()
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := st.Outbox()
	fromQueue := 0
	for _, it := range sent {
		if strings.HasPrefix(it.Subject, queuePrefix) {
			queued[it.MessageID] = true
			fromQueue++
		}
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Subject, queuePrefix) {
			queued[e.MessageID] = true
			fromQueue++
		}
	}
	serverSubjects := map[string]bool{}
	for _, m := range srv.Messages() {
		if msg, err := mail.ReadMessage(bytes.NewReader(m.Data)); err == nil {
			serverSubjects[msg.Header.Get("Subject")] = true
		}
	}
	drafts, err := st.Drafts()
	if err != nil {
		t.Fatal(err)
	}
	inDrafts := 0
	for _, d := range drafts {
		if strings.HasPrefix(d.Subject, queuePrefix) {
			inDrafts++
			if serverSubjects[d.Subject] {
				t.Errorf("%q was delivered and came back as a draft", d.Subject)
			}
		}
	}

	delivered := map[string]int{}
	for _, m := range srv.Messages() {
		id := messageID(m.Data)
		if !queued[id] {
			t.Errorf("the server got a message nobody queued: %q", id)
		}
		delivered[id]++
	}
	inSent := map[string]bool{}
	for _, it := range sent {
		if inSent[it.MessageID] {
			t.Errorf("%s is in Sent twice", it.MessageID)
		}
		inSent[it.MessageID] = true
		// Killed between the move to Sent and the record of its copy,
		// the next start records it.
		if it.Copy == nil {
			t.Errorf("%s is in Sent without a state for its copy", it.MessageID)
		}
	}
	unconfirmed := map[string]bool{}
	for _, e := range entries {
		if e.State != store.StateUnconfirmed {
			t.Errorf("%s left %s in the Outbox", e.MessageID, e.State)
		}
		unconfirmed[e.MessageID] = true
	}
	var nSent, nUnconfirmedDelivered, nUnconfirmedNot int
	for id := range queued {
		switch {
		case inSent[id] && unconfirmed[id]:
			t.Errorf("%s is in Sent and in the Outbox", id)
		case inSent[id]:
			nSent++
			if delivered[id] != 1 {
				t.Errorf("%s is in Sent but was delivered %d times", id, delivered[id])
			}
		case unconfirmed[id]:
			if delivered[id] > 1 {
				t.Errorf("unconfirmed %s was delivered %d times", id, delivered[id])
			}
			if delivered[id] == 1 {
				nUnconfirmedDelivered++
			} else {
				nUnconfirmedNot++
			}
		default:
			t.Errorf("%s is lost: neither in Sent nor in the Outbox (delivered %d times)", id, delivered[id])
		}
	}
	t.Logf("%d kills; %d messages queued: %d in Sent, each delivered once; %d unconfirmed (%d of them delivered once, %d not at all); none lost",
		done, len(queued), nSent, nUnconfirmedDelivered+nUnconfirmedNot, nUnconfirmedDelivered, nUnconfirmedNot)
	t.Logf("%d runs of send --queue: %d of their messages reached the Outbox (counted above), %d came back as drafts (none delivered), %d never reached the store (killed before)",
		nQueue, fromQueue, inDrafts, nQueue-fromQueue-inDrafts)
	if t.Failed() {
		t.Logf("seed %d", seed)
	}
}

// messageID is the Message-ID header of a raw message, without brackets.
func messageID(raw []byte) string {
	for _, line := range splitLines(raw) {
		if len(line) > 11 && (line[:11] == "Message-ID:" || line[:11] == "Message-Id:") {
			id := line[11:]
			for len(id) > 0 && (id[0] == ' ' || id[0] == '<') {
				id = id[1:]
			}
			for len(id) > 0 && (id[len(id)-1] == '>' || id[len(id)-1] == '\r') {
				id = id[:len(id)-1]
			}
			return id
		}
		if line == "" || line == "\r" {
			break
		}
	}
	return ""
}

func splitLines(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == '\n' {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return out
}
