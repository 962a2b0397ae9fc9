package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/postcard-mail/postcard/assets"
	"github.com/postcard-mail/postcard/ui"
)

func TestRun_Version(t *testing.T) {
	tc := newTestCommand(t)
	want := fmt.Sprintf("postcard %s (build %d)\n", assets.Version, assets.Build)
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		if code := tc.run("", args...); code != 0 || tc.stdout.String() != want || tc.stderr.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q (want %q), stderr %q", args, code, tc.stdout, want, tc.stderr)
		}
	}
	for _, args := range [][]string{{"help", "version"}, {"version", "--help"}} {
		if code := tc.run("", args...); code != 0 || !strings.Contains(tc.stdout.String(), "Usage: postcard version") {
			t.Errorf("%v: exit %d, stdout %q", args, code, tc.stdout)
		}
	}
	if code := tc.run("", "--version", "now"); code != 64 || !strings.Contains(tc.stderr.String(), "takes no arguments") {
		t.Errorf("version with an argument: exit %d, stderr %q", code, tc.stderr)
	}
	if tc.windows != 0 {
		t.Errorf("%d windows opened", tc.windows)
	}
}

// The ID the window registers with (ui.AppID) must be the one the packages
// are built with (FyneApp.toml, through assets): otherwise a packaged build
// and a go build keep their preferences apart and the .desktop file names
// another app.
func TestAppID_MatchesFyneAppToml(t *testing.T) {
	if ui.AppID != assets.AppID {
		t.Errorf("ui.AppID = %q, FyneApp.toml's ID (assets.AppID) = %q", ui.AppID, assets.AppID)
	}
}

// The fyne tool reads FyneApp.toml from the main package's folder. make
// package copies the top-level one here only while the tool runs; a copy
// left behind, or added, would be a second source that can drift.
func TestNoFyneAppTomlBesideMain(t *testing.T) {
	if _, err := os.Stat("FyneApp.toml"); err == nil {
		t.Error("cmd/postcard/FyneApp.toml exists: delete it; the top-level FyneApp.toml is the only one (make package copies it here while it runs)")
	}
}
