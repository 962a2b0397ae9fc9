package fyneapp

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

const valid = `
[Details]
Icon = "assets/icon.png"
Name = "Postcard"
ID = "io.github.postcard-mail.postcard"
Version = "0.1.0"
Build = 3

[LinuxAndBSD]
GenericName = "Mail Composer"
Categories = ["Network", "Email"]

[Migrations]
fyneDo = true

[Release]
key = "ignored"
`

func TestParse_Valid(t *testing.T) {
	f, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	want := Details{Icon: "assets/icon.png", Name: "Postcard", ID: "io.github.postcard-mail.postcard", Version: "0.1.0", Build: 3}
	if f.Details != want {
		t.Errorf("Details = %+v, want %+v", f.Details, want)
	}
	if f.LinuxAndBSD == nil || f.LinuxAndBSD.GenericName != "Mail Composer" || len(f.LinuxAndBSD.Categories) != 2 {
		t.Errorf("LinuxAndBSD = %+v", f.LinuxAndBSD)
	}
	if !f.Migrations["fyneDo"] {
		t.Errorf("Migrations = %v", f.Migrations)
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name, from, to, err string
	}{
		{"not TOML", `Build = 3`, `Build = `, "fyneapp: toml"},
		{"no name", `Name = "Postcard"`, ``, "Name is missing"},
		{"no icon", `Icon = "assets/icon.png"`, ``, "Icon is missing"},
		{"ID without a dot", `ID = "io.github.postcard-mail.postcard"`, `ID = "postcard"`, "not a reverse-DNS"},
		{"ID with a space", `ID = "io.github.postcard-mail.postcard"`, `ID = "io.github.post card"`, "not a reverse-DNS"},
		{"ID part starting with a digit", `ID = "io.github.postcard-mail.postcard"`, `ID = "io.9postcard"`, "not a reverse-DNS"},
		{"two-part version", `Version = "0.1.0"`, `Version = "0.1"`, "not of the form x.y.z"},
		{"pre-release version", `Version = "0.1.0"`, `Version = "0.1.0-rc1"`, "not of the form x.y.z"},
		{"build 0", `Build = 3`, `Build = 0`, "Build is 0"},
		{"no build", `Build = 3`, ``, "Build is 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(valid, tt.from, tt.to, 1)
			if in == valid {
				t.Fatalf("%q not found in the valid file", tt.from)
			}
			_, err := Parse([]byte(in))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err = %v, want one containing %q", err, tt.err)
			}
		})
	}
}

func TestRender_ValidGo(t *testing.T) {
	src := Render("assets", Details{Name: `Post"card`, ID: "a.b", Version: "1.2.3", Build: 7})
	f, err := parser.ParseFile(token.NewFileSet(), "metadata.go", src, parser.ParseComments)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	if f.Name.Name != "assets" {
		t.Errorf("package %s", f.Name.Name)
	}
	for _, want := range []string{`Name = "Post\"card"`, `AppID = "a.b"`, `Version = "1.2.3"`, `Build = 7`, "DO NOT EDIT."} {
		if !strings.Contains(string(src), want) {
			t.Errorf("no %q in\n%s", want, src)
		}
	}
}
