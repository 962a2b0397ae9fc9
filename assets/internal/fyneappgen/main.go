//go:build generate

// Command fyneappgen writes the details of FyneApp.toml into a Go file, so
// the binary and the packages cannot disagree about them:
//
//	go generate ./assets
//
// runs it as "fyneappgen ../FyneApp.toml metadata.go" from the assets
// directory. The generate build tag, which that go:generate line sets,
// keeps it out of go install ./...
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/postcard-mail/postcard/assets/internal/fyneapp"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: fyneappgen FyneApp.toml out.go")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "fyneappgen:", err)
		os.Exit(1)
	}
}

func run(tomlPath, outPath string) error {
	data, err := os.ReadFile(tomlPath)
	if err != nil {
		return err
	}
	f, err := fyneapp.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", tomlPath, err)
	}
	// go generate names the package of the file with the directive.
	pkg := os.Getenv("GOPACKAGE")
	if pkg == "" {
		return fmt.Errorf("GOPACKAGE is not set: run me through go generate")
	}
	src := fyneapp.Render(pkg, f.Details)
	if old, err := os.ReadFile(outPath); err == nil && bytes.Equal(old, src) {
		return nil
	}
	return os.WriteFile(outPath, src, 0o644)
}
