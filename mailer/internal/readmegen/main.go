//go:build generate

// Command readmegen rewrites the troubleshooting section of a README from
// mailer.Hints, so the two cannot drift apart:
//
//	go generate ./mailer
//
// runs it as "readmegen ../README.md" from the mailer directory. The
// generate build tag, which that go:generate line sets, keeps it out of
// go install ./...
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/internal/readme"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: readmegen README.md")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "readmegen:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	updated, err := readme.Update(old, mailer.Hints())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(old, updated) {
		return nil
	}
	// WriteFile keeps the mode of the existing file.
	return os.WriteFile(path, updated, 0o644)
}
