package assets

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/postcard-mail/postcard/assets/internal/fyneapp"
)

func readFyneApp(t *testing.T) fyneapp.File {
	t.Helper()
	data, err := os.ReadFile("../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := fyneapp.Parse(data)
	if err != nil {
		t.Fatalf("FyneApp.toml: %v", err)
	}
	return f
}

// metadata.go is rendered by the same function go generate uses, so a
// change to FyneApp.toml alone fails here.
func TestMetadata_MatchesFyneAppToml(t *testing.T) {
	f := readFyneApp(t)
	got, err := os.ReadFile("metadata.go")
	if err != nil {
		t.Fatal(err)
	}
	if want := fyneapp.Render("assets", f.Details); !bytes.Equal(got, want) {
		t.Errorf("metadata.go does not match FyneApp.toml: run go generate ./assets\ngot:\n%s\nwant:\n%s", got, want)
	}
	if Name != f.Details.Name || AppID != f.Details.ID || Version != f.Details.Version || Build != f.Details.Build {
		t.Errorf("constants %q %q %q %d, FyneApp.toml %+v", Name, AppID, Version, Build, f.Details)
	}
}

// The fyne tool takes the .desktop file's contents from FyneApp.toml.
func TestFyneAppToml_DesktopEntry(t *testing.T) {
	f := readFyneApp(t)
	l := f.LinuxAndBSD
	if l == nil {
		t.Fatal("FyneApp.toml has no [LinuxAndBSD] table")
	}
	if l.GenericName == "" || l.Comment == "" || len(l.Keywords) == 0 {
		t.Errorf("[LinuxAndBSD] needs GenericName, Comment and Keywords: %+v", l)
	}
	// Email is an additional category, valid only after the main category
	// Network (desktop-file-validate refuses it otherwise).
	if !slices.Contains(l.Categories, "Network") || !slices.Contains(l.Categories, "Email") {
		t.Errorf("[LinuxAndBSD] Categories = %q, want Network and Email", l.Categories)
	}
	for _, s := range append([]string{l.GenericName, l.Comment}, append(l.Categories, l.Keywords...)...) {
		if strings.ContainsAny(s, ";\n\\") {
			t.Errorf("%q: ';', '\\' and newlines would need escaping in a .desktop file", s)
		}
	}
	if !f.Migrations["fyneDo"] {
		t.Error("[Migrations] fyneDo = true is missing: the window calls fyne.Do from its goroutines")
	}
}

// The icon the fyne tool packages is the one embedded here.
func TestFyneAppToml_IconIsTheEmbeddedOne(t *testing.T) {
	f := readFyneApp(t)
	data, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(f.Details.Icon)))
	if err != nil {
		t.Fatalf("FyneApp.toml's Icon: %v", err)
	}
	if !bytes.Equal(data, Icon().Content()) {
		t.Errorf("FyneApp.toml's Icon %s is not the embedded icon.png", f.Details.Icon)
	}
}

// Each PNG is the size its name says: the window and the fyne tool use the
// 512 px icon.png, make install the rest.
func TestIcons_Sizes(t *testing.T) {
	want := map[string]int{"icon.png": 512}
	for _, s := range []int{16, 32, 48, 64, 128, 256} {
		want["icon-"+strconv.Itoa(s)+".png"] = s
	}
	files, err := filepath.Glob("*.png")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: unexpected PNG (add it to this test and to make install)", name)
		}
	}
	for name, size := range want {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Error(err)
			continue
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if cfg.Width != size || cfg.Height != size {
			t.Errorf("%s is %d×%d, want %d×%d", name, cfg.Width, cfg.Height, size, size)
		}
	}
}

// The Makefile and the scripts in .ci read Name, ID, Version and Build with
// sed, so each must sit on a line of its own in the plain form.
func TestFyneAppToml_LinesTheScriptsRead(t *testing.T) {
	f := readFyneApp(t)
	data, err := os.ReadFile("../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for key, want := range map[string]string{
		"Name":    `Name = ` + strconv.Quote(f.Details.Name),
		"ID":      `ID = ` + strconv.Quote(f.Details.ID),
		"Version": `Version = ` + strconv.Quote(f.Details.Version),
		"Build":   `Build = ` + strconv.Itoa(f.Details.Build),
	} {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, key+" ") || strings.HasPrefix(l, key+"=") {
				n++
				if l != want {
					t.Errorf("FyneApp.toml: %q, want the plain form %q", l, want)
				}
			}
		}
		if n != 1 {
			t.Errorf("FyneApp.toml: %d lines set %s, want 1", n, key)
		}
	}
}
