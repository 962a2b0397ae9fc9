package main

import (
	"context"
	"os"

	"golang.org/x/term"
)

// readPasswordTerminal reads a line from the terminal on stdin without
// echo. term.ReadPassword turns echo back on only when its read returns,
// and a read blocked on a terminal cannot be interrupted; so it runs on its
// own, and the first Ctrl+C (or SIGTERM), which ends ctx, returns at once
// with the terminal restored as it was.
func readPasswordTerminal(ctx context.Context) ([]byte, error) {
	fd := int(os.Stdin.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return nil, err
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		return nil, ctx.Err()
	}
}

// untilDone runs read, which may block on a terminal, a pipe or a FIFO in
// a way nothing can interrupt, and returns what it returns, or ctx's error
// as soon as ctx ends (the first Ctrl+C or SIGTERM): the command then ends
// while read is still blocked.
func untilDone[T any](ctx context.Context, read func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := read()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
