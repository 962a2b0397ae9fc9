package mailer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// kcPassword looks like an iCloud app-specific password, so a leak of it
// into an error would be the real thing.
const kcPassword = "abcd-efgh-ijkl-mnop"

// kcMapStore is an in-memory SecretStore that behaves like go-keyring: a
// missing entry is keyring.ErrNotFound.
type kcMapStore struct {
	mu        sync.Mutex
	m         map[string]string
	deleteErr map[string]error // user -> error Delete returns instead
	calls     []string         // "op user", in order
}

func newKcMapStore() *kcMapStore {
	return &kcMapStore{m: map[string]string{}, deleteErr: map[string]error{}}
}

func kcKey(service, user string) string { return service + "\x00" + user }

func (s *kcMapStore) Get(service, user string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "get "+user)
	pw, ok := s.m[kcKey(service, user)]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return pw, nil
}

func (s *kcMapStore) Set(service, user, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "set "+user)
	s.m[kcKey(service, user)] = password
	return nil
}

func (s *kcMapStore) Delete(service, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "delete "+user)
	if err := s.deleteErr[user]; err != nil {
		return err
	}
	if _, ok := s.m[kcKey(service, user)]; !ok {
		return keyring.ErrNotFound
	}
	delete(s.m, kcKey(service, user))
	return nil
}

func (s *kcMapStore) has(service, user string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pw, ok := s.m[kcKey(service, user)]
	return pw, ok
}

func (s *kcMapStore) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// kcBlockStore never answers, like a keychain showing an unlock prompt nobody
// answers. Its calls return when the test ends, so no goroutine outlives it.
type kcBlockStore struct {
	entered chan struct{} // receives once per call that has started
	release chan struct{}
}

func newKcBlockStore(t *testing.T) *kcBlockStore {
	s := &kcBlockStore{entered: make(chan struct{}, 16), release: make(chan struct{})}
	t.Cleanup(func() { close(s.release) })
	return s
}

func (s *kcBlockStore) wait() error {
	s.entered <- struct{}{}
	<-s.release
	return errors.New("released")
}

func (s *kcBlockStore) Get(service, user string) (string, error) { return "", s.wait() }
func (s *kcBlockStore) Set(service, user, password string) error { return s.wait() }
func (s *kcBlockStore) Delete(service, user string) error        { return s.wait() }

// kcErrStore fails every call with err, the way go-keyring reports a missing
// bus, a missing Secret Service or a locked collection.
type kcErrStore struct{ err error }

func (s kcErrStore) Get(service, user string) (string, error) { return "", s.err }
func (s kcErrStore) Set(service, user, password string) error { return s.err }
func (s kcErrStore) Delete(service, user string) error        { return s.err }

// kcLeakyStore is a badly behaved backend that puts the secret into its errors.
type kcLeakyStore struct{}

func (kcLeakyStore) Get(service, user string) (string, error) {
	return kcPassword, fmt.Errorf("could not decode %q", kcPassword)
}
func (kcLeakyStore) Set(service, user, password string) error {
	return fmt.Errorf("security: add-generic-password -w %s: exit status 1", password)
}
func (kcLeakyStore) Delete(service, user string) error { return keyring.ErrNotFound }

// kcCountStore counts the calls that reach it.
type kcCountStore struct {
	mu sync.Mutex
	n  int
}

func (s *kcCountStore) inc() { s.mu.Lock(); s.n++; s.mu.Unlock() }
func (s *kcCountStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}
func (s *kcCountStore) Get(service, user string) (string, error) { s.inc(); return "x", nil }
func (s *kcCountStore) Set(service, user, password string) error { s.inc(); return nil }
func (s *kcCountStore) Delete(service, user string) error        { s.inc(); return nil }

// kcOp is one Keychain method with fixed arguments, so tables can run each
// method against the same store.
type kcOp struct {
	name string
	run  func(context.Context, Keychain) error
}

var kcOps = []kcOp{
	{"get", func(ctx context.Context, k Keychain) error { _, err := k.Get(ctx, "ann@icloud.com"); return err }},
	{"set", func(ctx context.Context, k Keychain) error { return k.Set(ctx, "ann@icloud.com", kcPassword) }},
	{"delete", func(ctx context.Context, k Keychain) error { return k.Delete(ctx, "ann@icloud.com") }},
	{"move", func(ctx context.Context, k Keychain) error { return k.Move(ctx, "ann@icloud.com", "bob@icloud.com") }},
}

// kcAsError checks err is an *Error of kind at stage and returns it.
func kcAsError(t *testing.T, err error, kind Kind, stage Stage) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Kind != kind || e.Stage != stage {
		t.Fatalf("error %q: kind %q stage %q, want %q %q", err, e.Kind, e.Stage, kind, stage)
	}
	if e.Detail == "" {
		t.Fatalf("error %q has no Detail", err)
	}
	if !strings.HasPrefix(err.Error(), "mailer: ") {
		t.Fatalf("error %q does not start with \"mailer: \"", err)
	}
	if strings.Contains(err.Error(), kcPassword) {
		t.Fatalf("error %q contains the password", err)
	}
	return e
}

func TestKeychain_ZeroValue(t *testing.T) {
	var k Keychain
	if got := k.service(); got != "postcard" {
		t.Errorf("service = %q, want postcard", got)
	}
	if got := k.timeout(); got != 10*time.Second {
		t.Errorf("timeout = %v, want 10s", got)
	}
	if _, ok := k.store().(osStore); !ok {
		t.Errorf("store = %T, want the OS keychain", k.store())
	}
	k = Keychain{Service: "other", Timeout: time.Second}
	if k.service() != "other" || k.timeout() != time.Second {
		t.Errorf("explicit fields ignored: %q %v", k.service(), k.timeout())
	}
}

func TestKeychain_GetSetDelete(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, k Keychain, s *kcMapStore)
	}{
		{"set then get", func(t *testing.T, k Keychain, s *kcMapStore) {
			if err := k.Set(ctx, "ann@icloud.com", kcPassword); err != nil {
				t.Fatal(err)
			}
			got, err := k.Get(ctx, "ann@icloud.com")
			if err != nil || got != kcPassword {
				t.Fatalf("Get = %q, %v", got, err)
			}
		}},
		{"set replaces", func(t *testing.T, k Keychain, s *kcMapStore) {
			if err := k.Set(ctx, "ann@icloud.com", "old-pass-word-xxxx"); err != nil {
				t.Fatal(err)
			}
			if err := k.Set(ctx, "ann@icloud.com", kcPassword); err != nil {
				t.Fatal(err)
			}
			if got, _ := k.Get(ctx, "ann@icloud.com"); got != kcPassword {
				t.Fatalf("Get = %q after replacing", got)
			}
		}},
		{"stored under the service", func(t *testing.T, k Keychain, s *kcMapStore) {
			if err := k.Set(ctx, "ann@icloud.com", kcPassword); err != nil {
				t.Fatal(err)
			}
			if _, ok := s.has(KeychainService, "ann@icloud.com"); !ok {
				t.Fatal("not stored under service postcard")
			}
			other := k
			other.Service = "other"
			if _, err := other.Get(ctx, "ann@icloud.com"); !errors.Is(err, ErrPasswordNotFound) {
				t.Fatalf("other service sees it: %v", err)
			}
		}},
		{"get missing", func(t *testing.T, k Keychain, s *kcMapStore) {
			got, err := k.Get(ctx, "ann@icloud.com")
			if got != "" || !errors.Is(err, ErrPasswordNotFound) {
				t.Fatalf("Get = %q, %v; want ErrPasswordNotFound", got, err)
			}
			if !errors.Is(err, keyring.ErrNotFound) {
				t.Error("library error not kept in the chain")
			}
			if errors.Is(err, ErrKeychainUnavailable) || errors.Is(err, ErrKeychainTimeout) {
				t.Error("not-found also matches another sentinel")
			}
			e := kcAsError(t, err, KindKeychain, StageKeychain)
			if e.Detail != "no password is stored for ann@icloud.com" {
				t.Errorf("Detail = %q", e.Detail)
			}
		}},
		{"delete removes", func(t *testing.T, k Keychain, s *kcMapStore) {
			if err := k.Set(ctx, "ann@icloud.com", kcPassword); err != nil {
				t.Fatal(err)
			}
			if err := k.Delete(ctx, "ann@icloud.com"); err != nil {
				t.Fatal(err)
			}
			if _, err := k.Get(ctx, "ann@icloud.com"); !errors.Is(err, ErrPasswordNotFound) {
				t.Fatalf("Get after Delete: %v", err)
			}
		}},
		{"delete missing", func(t *testing.T, k Keychain, s *kcMapStore) {
			err := k.Delete(ctx, "ann@icloud.com")
			if !errors.Is(err, ErrPasswordNotFound) {
				t.Fatalf("Delete of nothing = %v, want ErrPasswordNotFound", err)
			}
			kcAsError(t, err, KindKeychain, StageKeychain)
		}},
		{"users are separate", func(t *testing.T, k Keychain, s *kcMapStore) {
			if err := k.Set(ctx, "ann@icloud.com", kcPassword); err != nil {
				t.Fatal(err)
			}
			if err := k.Set(ctx, "bob@icloud.com", "bobs-pass-word-xxx"); err != nil {
				t.Fatal(err)
			}
			if err := k.Delete(ctx, "bob@icloud.com"); err != nil {
				t.Fatal(err)
			}
			if got, _ := k.Get(ctx, "ann@icloud.com"); got != kcPassword {
				t.Fatalf("ann's password = %q after deleting bob's", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newKcMapStore()
			tt.run(t, Keychain{Store: s}, s)
		})
	}
}

func TestKeychain_Move(t *testing.T) {
	ctx := context.Background()
	const ann, bob = "ann@icloud.com", "bob@icloud.com"
	unavailable := errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'")
	tests := []struct {
		name      string
		stored    map[string]string // user -> password before
		deleteErr error             // what deleting ann returns
		from, to  string
		wantErr   error
		want      map[string]string // user -> password after
		wantCalls []string
	}{
		{
			name:      "moves",
			stored:    map[string]string{ann: kcPassword},
			from:      ann,
			to:        bob,
			want:      map[string]string{bob: kcPassword},
			wantCalls: []string{"get " + ann, "set " + bob, "delete " + ann},
		},
		{
			name:      "replaces a password already stored for the new user",
			stored:    map[string]string{ann: kcPassword, bob: "stale-pass-word-xx"},
			from:      ann,
			to:        bob,
			want:      map[string]string{bob: kcPassword},
			wantCalls: []string{"get " + ann, "set " + bob, "delete " + ann},
		},
		{
			name:      "same user does nothing",
			stored:    map[string]string{ann: kcPassword},
			from:      ann,
			to:        ann,
			want:      map[string]string{ann: kcPassword},
			wantCalls: nil,
		},
		{
			name:      "missing old user",
			stored:    map[string]string{},
			from:      ann,
			to:        bob,
			wantErr:   ErrPasswordNotFound,
			want:      map[string]string{},
			wantCalls: []string{"get " + ann},
		},
		{
			name:      "old gone meanwhile counts as moved",
			stored:    map[string]string{ann: kcPassword},
			deleteErr: keyring.ErrNotFound,
			from:      ann,
			to:        bob,
			want:      map[string]string{ann: kcPassword, bob: kcPassword},
			wantCalls: []string{"get " + ann, "set " + bob, "delete " + ann},
		},
		{
			// The new entry stays: the password is never lost.
			name:      "old cannot be deleted",
			stored:    map[string]string{ann: kcPassword},
			deleteErr: unavailable,
			from:      ann,
			to:        bob,
			wantErr:   ErrKeychainUnavailable,
			want:      map[string]string{ann: kcPassword, bob: kcPassword},
			wantCalls: []string{"get " + ann, "set " + bob, "delete " + ann},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newKcMapStore()
			for u, pw := range tt.stored {
				s.m[kcKey(KeychainService, u)] = pw
			}
			if tt.deleteErr != nil {
				s.deleteErr[ann] = tt.deleteErr
			}
			err := Keychain{Store: s}.Move(ctx, tt.from, tt.to)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Move: %v", err)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Move = %v, want %v", err, tt.wantErr)
				}
				kcAsError(t, err, KindKeychain, StageKeychain)
			}
			for _, u := range []string{ann, bob} {
				got, ok := s.has(KeychainService, u)
				want, wantOK := tt.want[u]
				if ok != wantOK || got != want {
					t.Errorf("%s: stored %q (%v), want %q (%v)", u, got, ok, want, wantOK)
				}
			}
			if got := s.log(); strings.Join(got, ",") != strings.Join(tt.wantCalls, ",") {
				t.Errorf("calls %q, want %q", got, tt.wantCalls)
			}
		})
	}
	t.Run("failed delete says the password was copied", func(t *testing.T) {
		s := newKcMapStore()
		s.m[kcKey(KeychainService, ann)] = kcPassword
		s.deleteErr[ann] = unavailable
		err := Keychain{Store: s}.Move(ctx, ann, bob)
		e := kcAsError(t, err, KindKeychain, StageKeychain)
		for _, want := range []string{"copied to " + bob, "removed for " + ann, unavailable.Error()} {
			if !strings.Contains(e.Detail, want) {
				t.Errorf("Detail %q does not say %q", e.Detail, want)
			}
		}
	})
}

func TestKeychain_Timeout(t *testing.T) {
	for _, o := range kcOps {
		t.Run(o.name, func(t *testing.T) {
			k := Keychain{Store: newKcBlockStore(t), Timeout: 50 * time.Millisecond}
			start := time.Now()
			err := o.run(context.Background(), k)
			if !errors.Is(err, ErrKeychainTimeout) {
				t.Fatalf("err = %v, want ErrKeychainTimeout", err)
			}
			if errors.Is(err, ErrKeychainUnavailable) || errors.Is(err, ErrPasswordNotFound) {
				t.Error("timeout also matches another sentinel")
			}
			e := kcAsError(t, err, KindKeychain, StageKeychain)
			for _, want := range []string{"did not answer within 50ms", "unlock"} {
				if !strings.Contains(e.Detail, want) {
					t.Errorf("Detail %q does not say %q", e.Detail, want)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v with a 50ms timeout", d)
			}
		})
	}
}

func TestKeychain_Cancel(t *testing.T) {
	for _, o := range kcOps {
		t.Run(o.name, func(t *testing.T) {
			s := newKcBlockStore(t)
			// The default 10s timeout must not be what ends the call.
			k := Keychain{Store: s}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				select {
				case <-s.entered: // the store call is running
				case <-ctx.Done():
				}
				cancel()
			}()
			err := o.run(ctx, k)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			e := kcAsError(t, err, KindCancelled, StageKeychain)
			if !strings.Contains(e.Detail, "cancelled") {
				t.Errorf("Detail %q does not say cancelled", e.Detail)
			}
		})
	}
}

func TestKeychain_CancelledBeforeStart(t *testing.T) {
	for _, o := range kcOps {
		t.Run(o.name, func(t *testing.T) {
			s := &kcCountStore{}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err := o.run(ctx, Keychain{Store: s})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			kcAsError(t, err, KindCancelled, StageKeychain)
			if n := s.count(); n != 0 {
				t.Errorf("%d store calls after cancel, want none", n)
			}
		})
	}
}

func TestKeychain_Deadline(t *testing.T) {
	for _, o := range kcOps {
		t.Run(o.name, func(t *testing.T) {
			k := Keychain{Store: newKcBlockStore(t)}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			err := o.run(ctx, k)
			if !errors.Is(err, ErrKeychainTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want ErrKeychainTimeout and context.DeadlineExceeded", err)
			}
			kcAsError(t, err, KindKeychain, StageKeychain)
		})
	}
}

func TestKeychain_Unavailable(t *testing.T) {
	libErrs := []error{
		errors.New("The name org.freedesktop.secrets was not provided by any .service files"),
		errors.New("dbus: DBUS_SESSION_BUS_ADDRESS not set"),
		errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"),
	}
	for _, libErr := range libErrs {
		for _, o := range kcOps {
			t.Run(o.name+"/"+libErr.Error()[:12], func(t *testing.T) {
				err := o.run(context.Background(), Keychain{Store: kcErrStore{libErr}})
				if !errors.Is(err, ErrKeychainUnavailable) {
					t.Fatalf("err = %v, want ErrKeychainUnavailable", err)
				}
				if !errors.Is(err, libErr) {
					t.Error("library error not kept in the chain")
				}
				if errors.Is(err, ErrPasswordNotFound) || errors.Is(err, ErrKeychainTimeout) {
					t.Error("unavailable also matches another sentinel")
				}
				e := kcAsError(t, err, KindKeychain, StageKeychain)
				if !strings.HasPrefix(e.Detail, "no keychain is available or it is locked: ") ||
					!strings.Contains(e.Detail, libErr.Error()) {
					t.Errorf("Detail = %q", e.Detail)
				}
			})
		}
	}
}

func TestKeychain_StoreSentinels(t *testing.T) {
	// A SecretStore of the caller's own may answer with our sentinels.
	tests := []struct {
		name       string
		err        error
		want       error
		wantDetail string
	}{
		{"not found", ErrPasswordNotFound, ErrPasswordNotFound, "no password is stored for ann@icloud.com"},
		{"unavailable", ErrKeychainUnavailable, ErrKeychainUnavailable, "no keychain is available or it is locked"},
		{"timeout", ErrKeychainTimeout, ErrKeychainTimeout, "the keychain did not answer in time; it may be waiting for you to unlock it"},
		{"too big", keyring.ErrSetDataTooBig, ErrKeychainUnavailable, "the keychain refused the password for ann@icloud.com because it is too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Keychain{Store: kcErrStore{tt.err}}.Set(context.Background(), "ann@icloud.com", kcPassword)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if e := kcAsError(t, err, KindKeychain, StageKeychain); e.Detail != tt.wantDetail {
				t.Errorf("Detail = %q, want %q", e.Detail, tt.wantDetail)
			}
		})
	}
}

func TestKeychain_EmptyInput(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(Keychain) error
	}{
		{"get", func(k Keychain) error { _, err := k.Get(ctx, ""); return err }},
		{"get blank", func(k Keychain) error { _, err := k.Get(ctx, "  "); return err }},
		{"set", func(k Keychain) error { return k.Set(ctx, "", kcPassword) }},
		{"set empty password", func(k Keychain) error { return k.Set(ctx, "ann@icloud.com", "") }},
		{"delete", func(k Keychain) error { return k.Delete(ctx, "") }},
		{"move from", func(k Keychain) error { return k.Move(ctx, "", "bob@icloud.com") }},
		{"move to", func(k Keychain) error { return k.Move(ctx, "ann@icloud.com", "") }},
		{"move both", func(k Keychain) error { return k.Move(ctx, "", "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &kcCountStore{}
			err := tt.run(Keychain{Store: s})
			e := kcAsError(t, err, KindInvalidAccount, StageValidate)
			if !strings.Contains(e.Detail, "is empty") {
				t.Errorf("Detail = %q", e.Detail)
			}
			if n := s.count(); n != 0 {
				t.Errorf("%d store calls, want none", n)
			}
		})
	}
}

// kcChain returns err and everything it wraps.
func kcChain(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

func TestKeychain_PasswordNeverInErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		store func(t *testing.T) SecretStore
		run   func(context.Context, Keychain) error
	}{
		{"leaky set", func(*testing.T) SecretStore { return kcLeakyStore{} },
			func(ctx context.Context, k Keychain) error { return k.Set(ctx, "ann@icloud.com", kcPassword) }},
		{"leaky get", func(*testing.T) SecretStore { return kcLeakyStore{} },
			func(ctx context.Context, k Keychain) error { _, err := k.Get(ctx, "ann@icloud.com"); return err }},
		{"leaky move", func(*testing.T) SecretStore { return kcLeakyStore{} },
			func(ctx context.Context, k Keychain) error { return k.Move(ctx, "ann@icloud.com", "bob@icloud.com") }},
		{"timeout set", func(t *testing.T) SecretStore { return newKcBlockStore(t) },
			func(ctx context.Context, k Keychain) error { return k.Set(ctx, "ann@icloud.com", kcPassword) }},
		{"unavailable set", func(*testing.T) SecretStore { return kcErrStore{errors.New("no bus")} },
			func(ctx context.Context, k Keychain) error { return k.Set(ctx, "ann@icloud.com", kcPassword) }},
		{"move fails at delete", func(*testing.T) SecretStore {
			s := newKcMapStore()
			s.m[kcKey(KeychainService, "ann@icloud.com")] = kcPassword
			s.deleteErr["ann@icloud.com"] = errors.New("no bus")
			return s
		}, func(ctx context.Context, k Keychain) error { return k.Move(ctx, "ann@icloud.com", "bob@icloud.com") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := Keychain{Store: tt.store(t), Timeout: 50 * time.Millisecond}
			err := tt.run(ctx, k)
			if err == nil {
				t.Fatal("no error")
			}
			for _, e := range kcChain(err) {
				if strings.Contains(e.Error(), kcPassword) {
					t.Errorf("%T in the chain says %q", e, e.Error())
				}
				if ke, ok := e.(*Error); ok && strings.Contains(ke.Detail, kcPassword) {
					t.Errorf("Detail %q contains the password", ke.Detail)
				}
			}
		})
	}
	t.Run("redaction keeps the classification", func(t *testing.T) {
		err := Keychain{Store: kcLeakyStore{}}.Set(ctx, "ann@icloud.com", kcPassword)
		e := kcAsError(t, err, KindKeychain, StageKeychain)
		if !errors.Is(err, ErrKeychainUnavailable) || !strings.Contains(e.Detail, "[redacted]") {
			t.Errorf("err = %v", err)
		}
		// A secret that happens to occur in a library sentinel's text must
		// not turn "not found" into "unavailable".
		_, err = Keychain{Store: kcErrStore{keyring.ErrNotFound}}.Get(ctx, "ann@icloud.com")
		if !errors.Is(scrub(keyring.ErrNotFound, "found"), keyring.ErrNotFound) || !errors.Is(err, ErrPasswordNotFound) {
			t.Errorf("scrub lost the sentinel")
		}
	})
}

func TestKeychain_SentinelsDistinct(t *testing.T) {
	all := []error{ErrPasswordNotFound, ErrKeychainUnavailable, ErrKeychainTimeout}
	for i, a := range all {
		if !strings.HasPrefix(a.Error(), "mailer: ") {
			t.Errorf("%q does not start with \"mailer: \"", a)
		}
		for j, b := range all {
			if i != j && (errors.Is(a, b) || a.Error() == b.Error()) {
				t.Errorf("%q and %q are not distinct", a, b)
			}
		}
	}
}
