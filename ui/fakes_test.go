package ui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
)

// sendCall is one call of fakeMailer.Send or Check.
type sendCall struct {
	Account  mailer.Account
	Password string
	From     string
	To       []string // the envelope's recipients
	Raw      []byte   // the message as it would go out
}

// message parses the message sent: its header and its body, decoded.
func (c sendCall) message(t *testing.T) (mail.Header, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(c.Raw))
	if err != nil {
		t.Fatalf("the message sent does not parse: %v\n%s", err, c.Raw)
	}
	body, _ := io.ReadAll(m.Body)
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body, _ = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
	}
	return m.Header, strings.ReplaceAll(string(body), "\r\n", "\n")
}

// subject is the decoded Subject of the message sent.
func (c sendCall) subject(t *testing.T) string {
	t.Helper()
	h, _ := c.message(t)
	s, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	return s
}

// fakeMailer records what it is asked to send and check. Each call takes
// the next error of sendErrs (checkErrs); when they run out it succeeds. If
// sendHook (checkHook) is set it runs first, with the call's context and
// progress: tests block there or report stages.
type fakeMailer struct {
	mu        sync.Mutex
	sends     []sendCall
	checks    []sendCall
	sendErrs  []error
	checkErrs []error
	sendHook  func(ctx context.Context, progress func(mailer.StageResult)) error
	checkHook func(ctx context.Context, progress func(mailer.StageResult)) error
	conns     []*fakeConnection
	// connectHook, if set, runs in Connect: between the message's
	// preparing and its freezing.
	connectHook func()
}

func (f *fakeMailer) Send(ctx context.Context, a mailer.Account, pwf mailer.PasswordFunc, out *mailer.Outgoing, progress func(mailer.StageResult)) (*mailer.Result, error) {
	// As the real client, no password means no login and nothing sent.
	pw, perr := pwf(ctx)
	if perr != nil {
		return nil, perr
	}
	var raw bytes.Buffer
	if _, err := out.Content.WriteTo(&raw); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.sends = append(f.sends, sendCall{Account: a, Password: pw, From: out.From, To: out.Recipients, Raw: raw.Bytes()})
	var err error
	if len(f.sendErrs) > 0 {
		err, f.sendErrs = f.sendErrs[0], f.sendErrs[1:]
	}
	hook := f.sendHook
	f.mu.Unlock()
	if hook != nil {
		if herr := hook(ctx, progress); herr != nil {
			return nil, herr
		}
	}
	if err != nil {
		return nil, err
	}
	if out.BeforeDot != nil {
		if err := out.BeforeDot(); err != nil {
			return nil, err
		}
	}
	progress(mailer.StageResult{Stage: mailer.StageLogin, OK: true})
	return &mailer.Result{MessageID: out.MessageID, Recipients: out.Recipients, Reply: "250 2.0.0 Ok: queued"}, nil
}

// Connect records a connection opened ahead; its Send is the fake's Send
// with what Connect was given, once.
func (f *fakeMailer) Connect(ctx context.Context, a mailer.Account, pwf mailer.PasswordFunc, size int64, recipients int, progress func(mailer.StageResult)) Connection {
	c := &fakeConnection{f: f, ctx: ctx, a: a, pwf: pwf, progress: progress}
	f.mu.Lock()
	f.conns = append(f.conns, c)
	hook := f.connectHook
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	return c
}

// Connections are the connections opened ahead so far.
func (f *fakeMailer) Connections() []*fakeConnection {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*fakeConnection(nil), f.conns...)
}

type fakeConnection struct {
	f        *fakeMailer
	ctx      context.Context
	a        mailer.Account
	pwf      mailer.PasswordFunc
	progress func(mailer.StageResult)

	mu                 sync.Mutex
	used, sent, closed bool
}

func (c *fakeConnection) Send(ctx context.Context, out *mailer.Outgoing) (*mailer.Result, error) {
	c.mu.Lock()
	used := c.used
	c.used, c.sent = true, !used
	c.mu.Unlock()
	if used {
		return nil, errors.New("fake: a connection sends one message")
	}
	// Connect's context ends the session too, as the real one's does.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(c.ctx, func() { cancel(context.Cause(c.ctx)) })
	defer stop()
	return c.f.Send(ctx, c.a, c.pwf, out, c.progress)
}

func (c *fakeConnection) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used, c.closed = true, true
}

// state reports whether the connection sent a message and was closed.
func (c *fakeConnection) state() (sent, closed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, c.closed
}

func (f *fakeMailer) Check(ctx context.Context, a mailer.Account, pwf mailer.PasswordFunc, progress func(mailer.StageResult)) ([]mailer.StageResult, error) {
	pw, perr := pwf(ctx)
	f.mu.Lock()
	f.checks = append(f.checks, sendCall{Account: a, Password: pw})
	var err error
	if len(f.checkErrs) > 0 {
		err, f.checkErrs = f.checkErrs[0], f.checkErrs[1:]
	}
	hook := f.checkHook
	f.mu.Unlock()
	if perr != nil {
		return nil, perr
	}
	if hook != nil {
		if herr := hook(ctx, progress); herr != nil {
			return nil, herr
		}
	}
	return nil, err
}

func (f *fakeMailer) Sends() []sendCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sendCall(nil), f.sends...)
}

func (f *fakeMailer) Checks() []sendCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sendCall(nil), f.checks...)
}

// fakeSentFolder is an IMAP Sent folder in a map. fileErrs are returned by
// the next copies, in order; found answers FindSent.
type fakeSentFolder struct {
	mu       sync.Mutex
	filed    map[string][]byte // by Message-ID
	fileErrs []error
	found    bool
	checks   int
	checkErr error
}

func newFakeSentFolder() *fakeSentFolder { return &fakeSentFolder{filed: map[string][]byte{}} }

func (f *fakeSentFolder) FileSentCopy(ctx context.Context, a mailer.IMAPAccount, pw mailer.PasswordFunc, id string, date time.Time, raw io.Reader, size int64) (mailer.CopyOutcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.fileErrs) > 0 {
		err := f.fileErrs[0]
		f.fileErrs = f.fileErrs[1:]
		return "", err
	}
	if _, ok := f.filed[id]; ok {
		return mailer.CopyAlreadyThere, nil
	}
	b, _ := io.ReadAll(raw)
	f.filed[id] = b
	return mailer.CopyFiled, nil
}

func (f *fakeSentFolder) FindSent(ctx context.Context, a mailer.IMAPAccount, pw mailer.PasswordFunc, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.found, nil
}

func (f *fakeSentFolder) Check(ctx context.Context, a mailer.IMAPAccount, pw mailer.PasswordFunc, progress func(mailer.StageResult)) ([]mailer.StageResult, error) {
	f.mu.Lock()
	f.checks++
	err := f.checkErr
	f.mu.Unlock()
	if _, perr := pw(ctx); perr != nil {
		return nil, perr
	}
	st := []mailer.StageResult{{Stage: mailer.StageLogin, OK: true}}
	progress(st[0])
	if err != nil {
		return st, err
	}
	st = append(st, mailer.StageResult{Stage: mailer.StageFolder, OK: true, Detail: "Sent Messages"})
	progress(st[1])
	return st, nil
}

func (f *fakeSentFolder) Filed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.filed)
}

// fakeSecrets is a keychain in a map. getErr, when set, is returned by Get
// (a keychain that is locked or missing); getHook, when set, runs first.
type fakeSecrets struct {
	mu      sync.Mutex
	m       map[string]string
	getErr  error
	setErr  error
	getHook func()
	gets    int
}

func newFakeSecrets() *fakeSecrets { return &fakeSecrets{m: map[string]string{}} }

func notFound() error {
	return &mailer.Error{Kind: mailer.KindKeychain, Stage: mailer.StageKeychain, Detail: "no password is stored", Err: mailer.ErrPasswordNotFound}
}

func (s *fakeSecrets) Get(ctx context.Context, user string) (string, error) {
	s.mu.Lock()
	hook := s.getHook
	s.gets++
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.getErr != nil {
		return "", s.getErr
	}
	pw, ok := s.m[user]
	if !ok {
		return "", notFound()
	}
	return pw, nil
}

func (s *fakeSecrets) GetFor(ctx context.Context, a mailer.Account) (string, error) {
	return s.Get(ctx, a.Username)
}

func (s *fakeSecrets) SetFor(ctx context.Context, a mailer.Account, pw string) error {
	return s.Set(ctx, a.Username, pw)
}

func (s *fakeSecrets) Set(ctx context.Context, user, pw string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.setErr != nil {
		return s.setErr
	}
	s.m[user] = pw
	return nil
}

func (s *fakeSecrets) Delete(ctx context.Context, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[user]; !ok {
		return notFound()
	}
	delete(s.m, user)
	return nil
}

func (s *fakeSecrets) Move(ctx context.Context, oldUser, newUser string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pw, ok := s.m[oldUser]
	if !ok {
		return notFound()
	}
	s.m[newUser] = pw
	delete(s.m, oldUser)
	return nil
}

func (s *fakeSecrets) Stored() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.m {
		out[k] = v
	}
	return out
}

func (s *fakeSecrets) Gets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets
}

// The account and password most tests start from.
const (
	testUser     = "me@icloud.com"
	testPassword = "abcd-efgh-ijkl-mnop"
)

// harness is a window on the test driver with fake mail and keychain.
type harness struct {
	t       *testing.T
	app     fyne.App
	dir     string // the config folder
	data    string // the store's folder
	st      *store.Store
	w       *window
	mailer  *fakeMailer
	secrets *fakeSecrets
	events  chan string
	calls   chan func()    // work back from the background, run by wait
	early   map[string]int // reported but not yet waited for
	closed  bool

	urlMu  sync.Mutex
	opened []string
}

// setup says what the config folder and keychain hold before the window
// opens.
type setup struct {
	account    *mailer.Account // nil: no account file
	password   string          // stored for account.Username when not ""
	draftDelay time.Duration   // 0: an hour, so no test writes by surprise
	dir        string          // "": a new temporary folder
	data       string          // the store's folder; "": a new temporary folder
	undo       time.Duration   // the undo delay (0: off)
	secrets    *fakeSecrets
	mailer     *fakeMailer
	sentFolder *fakeSentFolder // nil: no copies in the Sent folder
	contacts   *fakeContacts   // nil: no contacts server
	noWait     bool            // do not wait for the startup lookup
	noStart    bool            // build the window without starting its background work
}

func icloudAccount() *mailer.Account {
	a := mailer.DefaultAccount()
	a.Username = testUser
	return &a
}

func newHarness(t *testing.T, s setup) *harness {
	t.Helper()
	h := &harness{t: t, app: test.NewTempApp(t), dir: s.dir, events: make(chan string, 256), calls: make(chan func(), 4096), early: map[string]int{},
		secrets: s.secrets, mailer: s.mailer}
	if h.dir == "" {
		h.dir = t.TempDir()
	}
	h.data = s.data
	if h.data == "" {
		h.data = t.TempDir()
	}
	st, err := store.Open(h.data)
	if err != nil {
		t.Fatal(err)
	}
	h.st = st
	h.app.Preferences().SetInt(prefUndoDelay, int(s.undo/time.Second))
	if h.secrets == nil {
		h.secrets = newFakeSecrets()
	}
	if h.mailer == nil {
		h.mailer = &fakeMailer{}
	}
	if s.account != nil {
		if err := mailer.SaveAccount(h.dir, *s.account); err != nil {
			t.Fatal(err)
		}
		if s.password != "" {
			h.secrets.m[s.account.Username] = s.password
		}
	}
	delay := s.draftDelay
	if delay == 0 {
		delay = time.Hour
	}
	var folder SentFolder
	if s.sentFolder != nil {
		folder = s.sentFolder
	}
	var cts Contacts
	if s.contacts != nil {
		cts = s.contacts
	}
	h.w = newWindow(Deps{
		Contacts:   cts,
		SentFolder: folder,
		CopyWait:   20 * time.Millisecond,
		App:        h.app,
		Mailer:     h.mailer,
		Secrets:    h.secrets,
		Store:      st,
		ConfigDir:  h.dir,
		Poll:       time.Hour,
		OpenURL: func(u *url.URL) error {
			h.urlMu.Lock()
			defer h.urlMu.Unlock()
			h.opened = append(h.opened, u.String())
			return nil
		},
		Now:        func() time.Time { return time.Date(2026, 11, 25, 14, 2, 0, 0, time.UTC) },
		DraftDelay: delay,
		do:         func(f func()) { h.calls <- f },
	})
	h.w.event = func(ev string) { h.events <- ev }
	t.Cleanup(h.close)
	if s.noStart {
		return h
	}
	h.w.start()
	if s.account != nil && !s.noWait {
		h.wait(eventLookup)
	}
	return h
}

// close closes the window once; the test driver panics on a second Close.
func (h *harness) close() {
	if !h.closed {
		h.closed = true
		h.w.win.Close()
	}
}

// wait returns once event has been reported; events that arrive meanwhile
// are kept for later waits.
func (h *harness) wait(event string) {
	h.t.Helper()
	if h.early[event] > 0 {
		h.early[event]--
		return
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f := <-h.calls:
			f()
		case ev := <-h.events:
			if ev == event {
				return
			}
			h.early[ev]++
		case <-timeout:
			h.t.Fatalf("timed out waiting for %q", event)
		}
	}
}

// until runs the work back from the background, as it comes, until cond
// holds; it fails the test after 10 s.
func (h *harness) until(what string, cond func() bool) {
	h.t.Helper()
	timeout := time.After(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case f := <-h.calls:
			f()
		case ev := <-h.events:
			h.early[ev]++
		case <-tick.C:
		case <-timeout:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// pump runs the work back from the background that is ready now.
func (h *harness) pump() {
	for {
		select {
		case f := <-h.calls:
			f()
		default:
			return
		}
	}
}

// shortcut presses sc as the desktop driver does: the main menu's items are
// asked first, by shortcut name.
func (h *harness) shortcut(sc fyne.Shortcut) {
	h.t.Helper()
	for _, m := range h.w.win.MainMenu().Items {
		for _, it := range m.Items {
			if it.Shortcut != nil && it.Shortcut.ShortcutName() == sc.ShortcutName() {
				it.Action()
				return
			}
		}
	}
	h.t.Fatalf("no menu item has the shortcut %s", sc.ShortcutName())
}

var (
	ctrlEnter       = &desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault}
	ctrlKeypadEnter = &desktop.CustomShortcut{KeyName: fyne.KeyEnter, Modifier: fyne.KeyModifierShortcutDefault}
)

func (h *harness) openedURLs() []string {
	h.urlMu.Lock()
	defer h.urlMu.Unlock()
	return append([]string(nil), h.opened...)
}

// typeDraft types d into the compose fields.
func (h *harness) typeDraft(d Draft) {
	p := h.w.compose
	if d.To != "" {
		test.Type(p.to, d.To)
	}
	if d.Cc != "" {
		test.Type(p.cc, d.Cc)
	}
	if d.Bcc != "" {
		test.Type(p.bcc, d.Bcc)
	}
	if d.Subject != "" {
		test.Type(p.subject, d.Subject)
	}
	if d.Body != "" {
		test.Type(p.body, d.Body)
	}
}
