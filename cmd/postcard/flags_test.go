package main

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/postcard-mail/postcard/mailer"
)

func TestParseSend_RepeatedAndListAddresses(t *testing.T) {
	o, err := parseSend([]string{
		"--to", "Ann <ann@example.com>; bob@example.org",
		"-to=carol@example.net",
		"--cc", "dan@example.com, erin@example.com",
		"--bcc", "frank@example.com",
		"--attach", "a.txt", "--attach=b.pdf",
		"--subject", "Hello", "--body", "Hi", "--from", "alias@example.com",
		"--reply-to", "replies@example.com", "--json",
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := o.message(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := mailer.Message{
		From:        "alias@example.com",
		To:          []string{"Ann <ann@example.com>; bob@example.org", "carol@example.net"},
		Cc:          []string{"dan@example.com, erin@example.com"},
		Bcc:         []string{"frank@example.com"},
		ReplyTo:     "replies@example.com",
		Subject:     "Hello",
		Body:        "Hi",
		Attachments: []string{"a.txt", "b.pdf"},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("message =\n%#v\nwant\n%#v", m, want)
	}
	if !o.json {
		t.Error("--json not set")
	}

	// The mailer splits the lists: every address is a recipient once.
	a := mailer.Account{Host: "127.0.0.1", Port: 2525, Security: mailer.StartTLS, Username: "me@example.com"}
	m.Attachments = nil
	p, err := mailer.Prepare(a, m)
	if err != nil {
		t.Fatal(err)
	}
	wantRcpt := []string{"ann@example.com", "bob@example.org", "carol@example.net", "dan@example.com", "erin@example.com", "frank@example.com"}
	if !reflect.DeepEqual(p.Recipients, wantRcpt) {
		t.Errorf("recipients = %v, want %v", p.Recipients, wantRcpt)
	}
}

func TestParseSend_Errors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"body and body file", []string{"--to", "a@b.org", "--body", "x", "--body-file", "f"}, "either --body or --body-file"},
		{"empty body and body file", []string{"--to", "a@b.org", "--body=", "--body-file", "f"}, "either --body or --body-file"},
		{"unknown flag", []string{"--to", "a@b.org", "--bogus"}, "flag provided but not defined: -bogus"},
		{"stray argument", []string{"--to", "a@b.org", "hello"}, `unexpected argument "hello"`},
		{"bad port", []string{"--port", "70000"}, "-port"},
		{"bad security", []string{"--security", "plain"}, "starttls or ssl"},
		{"missing value", []string{"--to"}, "flag needs an argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSend(tt.args)
			var ce *cmdError
			if !errors.As(err, &ce) || ce.kind != "usage" {
				t.Fatalf("err = %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to mention %q", err, tt.want)
			}
			if exitCode(err) != 64 {
				t.Errorf("exit code %d, want 64", exitCode(err))
			}
		})
	}
}

func TestParseSend_Help(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		_, err := parseSend([]string{arg})
		var h *helpRequest
		if !errors.As(err, &h) {
			t.Fatalf("%s: err = %v, want help", arg, err)
		}
		for _, want := range []string{"Usage: postcard send", "-to addresses", "-body-file file", "-attach file"} {
			if !strings.Contains(h.text, want) {
				t.Errorf("%s: help lacks %q:\n%s", arg, want, h.text)
			}
		}
	}
}

func TestServerFlags_Apply(t *testing.T) {
	icloud := mailer.DefaultAccount()
	icloud.Username = "me@icloud.com"
	local := mailer.Account{Host: "127.0.0.1", Port: 2525, Security: mailer.StartTLS, Username: "me@example.com"}
	local587 := local
	local587.Port = 587

	tests := []struct {
		name     string
		args     []string
		base     mailer.Account
		host     string
		port     int
		security mailer.Security
	}{
		{"nothing", nil, icloud, mailer.ICloudHost, 587, mailer.StartTLS},
		{"icloud ssl implies 465", []string{"--security", "ssl"}, icloud, mailer.ICloudHost, 465, mailer.ImplicitTLS},
		{"icloud ssl with port", []string{"--security", "ssl", "--port", "2465"}, icloud, mailer.ICloudHost, 2465, mailer.ImplicitTLS},
		{"icloud starttls from 465", []string{"--security=starttls"}, withPort(icloud, 465, mailer.ImplicitTLS), mailer.ICloudHost, 587, mailer.StartTLS},
		{"other host keeps its odd port", []string{"--security", "ssl"}, local, "127.0.0.1", 2525, mailer.ImplicitTLS},
		{"other host on 587 moves to 465", []string{"--security", "ssl"}, local587, "127.0.0.1", 465, mailer.ImplicitTLS},
		{"host and port", []string{"--host", "localhost", "--port", "1"}, icloud, "localhost", 1, mailer.StartTLS},
		{"port only", []string{"-port", "465"}, icloud, mailer.ICloudHost, 465, mailer.StartTLS},
		{"ssl alias tls", []string{"--security", "TLS"}, icloud, mailer.ICloudHost, 465, mailer.ImplicitTLS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseCheck(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			a := o.server.apply(tt.base)
			if a.Host != tt.host || a.Port != tt.port || a.Security != tt.security {
				t.Errorf("got %s:%d %s, want %s:%d %s", a.Host, a.Port, a.Security, tt.host, tt.port, tt.security)
			}
			if a.Username != tt.base.Username {
				t.Errorf("username changed to %q", a.Username)
			}
		})
	}
}

func withPort(a mailer.Account, port int, sec mailer.Security) mailer.Account {
	a.Port, a.Security = port, sec
	return a
}

func TestParseLogin(t *testing.T) {
	saved := mailer.Account{Host: mailer.ICloudHost, Port: 587, Security: mailer.StartTLS,
		Username: "old@icloud.com", From: "alias@example.com", DisplayName: "Old Name"}

	o, err := parseLogin([]string{"--username", " new@icloud.com ", "--name", "New Name", "--password-stdin", "--no-verify"})
	if err != nil {
		t.Fatal(err)
	}
	a := o.account(saved)
	if a.Username != "new@icloud.com" || a.DisplayName != "New Name" || a.From != "alias@example.com" {
		t.Errorf("account = %+v: want new username and name, From kept", a)
	}
	if !o.passwordStdin || !o.noVerify || o.json {
		t.Errorf("options = %+v", o)
	}

	// An empty value clears an optional field; a missing flag keeps it.
	o, err = parseLogin([]string{"--from="})
	if err != nil {
		t.Fatal(err)
	}
	if a := o.account(saved); a.From != "" || a.DisplayName != "Old Name" || a.Username != "old@icloud.com" {
		t.Errorf("account = %+v: want From cleared, the rest kept", a)
	}
}

func TestParseLogin_PasswordArgumentRefused(t *testing.T) {
	for _, args := range [][]string{{"--password", "hunter2"}, {"-password=hunter2"}} {
		_, err := parseLogin(args)
		if exitCode(err) != 64 {
			t.Fatalf("%v: err = %v, want a usage error", args, err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%v: the error repeats the password: %v", args, err)
		}
		if !strings.Contains(err.Error(), "--password-stdin") {
			t.Errorf("%v: the error does not point to --password-stdin: %v", args, err)
		}
	}
}

func TestHasJSONFlag(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"--json"}, true},
		{[]string{"-json"}, true},
		{[]string{"--bogus", "--json"}, true},
		{[]string{"--json=true"}, true},
		{[]string{"--json=false"}, false},
		{[]string{"--", "--json"}, false},
		{[]string{"json"}, false},
		{[]string{"--jsonx"}, false},
	}
	for _, tt := range tests {
		if got := hasJSONFlag(tt.args); got != tt.want {
			t.Errorf("hasJSONFlag(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}
