package main

import (
	"context"
	"errors"
	"testing"
)

// A command signing in to two servers reads the keychain once; a failed
// read is not kept.
func TestKeepPassword(t *testing.T) {
	reads := 0
	fail := true
	pw := keepPassword(func(context.Context) (string, error) {
		reads++
		if fail {
			return "", errors.New("locked")
		}
		return "secret", nil
	})
	ctx := context.Background()
	if _, err := pw(ctx); err == nil {
		t.Fatal("the first read's failure was not returned")
	}
	fail = false
	for i := 0; i < 3; i++ {
		if p, err := pw(ctx); p != "secret" || err != nil {
			t.Fatalf("read %d: %q, %v", i, p, err)
		}
	}
	if reads != 2 {
		t.Errorf("the keychain was read %d times; want 2 (the failure, then once)", reads)
	}
}
