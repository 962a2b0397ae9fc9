package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/postcard-mail/postcard/mailer"
)

func TestExitCode(t *testing.T) {
	reply := func(code int, enh, text string) *mailer.Reply {
		return &mailer.Reply{Code: code, Enhanced: enh, Text: text}
	}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"usage", usageErrorf("send", "bad"), 64},
		{"no account", errNoAccount, 78},
		{"wrapped no account", fmt.Errorf("x: %w", errNoAccount), 78},
		{"invalid message", &mailer.Error{Kind: mailer.KindInvalidMessage, Stage: mailer.StageValidate}, 65},
		{"too large before sending", &mailer.Error{Kind: mailer.KindTooLarge, Stage: mailer.StageValidate}, 65},
		{"too large from the server", &mailer.Error{Kind: mailer.KindTooLarge, Stage: mailer.StageAccepted, Reply: reply(552, "5.3.4", "too big")}, 70},
		{"dns", &mailer.Error{Kind: mailer.KindDNS, Stage: mailer.StageResolve}, 68},
		{"connect refused", &mailer.Error{Kind: mailer.KindConnectRefused, Stage: mailer.StageConnect}, 69},
		{"connect timeout", &mailer.Error{Kind: mailer.KindConnectTimeout, Stage: mailer.StageConnect}, 69},
		{"temporary", &mailer.Error{Kind: mailer.KindTemporary, Stage: mailer.StageSender, Reply: reply(451, "4.3.0", "try later")}, 75},
		{"rate limited 4xx", &mailer.Error{Kind: mailer.KindRateLimited, Stage: mailer.StageRcpt, Reply: reply(421, "4.7.1", "excessive volume")}, 75},
		{"rate limited 5xx", &mailer.Error{Kind: mailer.KindRateLimited, Stage: mailer.StageSender, Reply: reply(550, "5.7.1", "daily sending limit")}, 70},
		{"connection lost", &mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageData}, 75},
		{"timeout", &mailer.Error{Kind: mailer.KindTimeout, Stage: mailer.StageGreeting}, 75},
		{"cancelled", &mailer.Error{Kind: mailer.KindCancelled, Stage: mailer.StageData}, 75},
		// After the upload the server may have the message: no "retry".
		{"connection lost after upload", &mailer.Error{Kind: mailer.KindConnectionLost, Stage: mailer.StageAccepted}, 70},
		{"timeout after upload", &mailer.Error{Kind: mailer.KindTimeout, Stage: mailer.StageAccepted}, 70},
		{"cancelled after upload", &mailer.Error{Kind: mailer.KindCancelled, Stage: mailer.StageAccepted}, 70},
		{"flood of reply lines after upload", &mailer.Error{Kind: mailer.KindProtocol, Stage: mailer.StageAccepted}, 70},
		{"temporary reply after upload", &mailer.Error{Kind: mailer.KindTemporary, Stage: mailer.StageAccepted, Reply: reply(451, "4.3.0", "queue full")}, 75},
		{"tls mode", &mailer.Error{Kind: mailer.KindTLSMode, Stage: mailer.StageTLS}, 76},
		{"tls certificate", &mailer.Error{Kind: mailer.KindTLSCertificate, Stage: mailer.StageTLS}, 76},
		{"tls unavailable", &mailer.Error{Kind: mailer.KindTLSUnavailable, Stage: mailer.StageTLS}, 76},
		{"tls too old", &mailer.Error{Kind: mailer.KindTLSVersion, Stage: mailer.StageTLS}, 76},
		{"protocol", &mailer.Error{Kind: mailer.KindProtocol, Stage: mailer.StageGreeting}, 76},
		{"auth", &mailer.Error{Kind: mailer.KindAuth, Stage: mailer.StageLogin, Reply: reply(535, "5.7.8", "authentication failed")}, 77},
		{"invalid account", &mailer.Error{Kind: mailer.KindInvalidAccount, Stage: mailer.StageValidate}, 78},
		{"keychain", &mailer.Error{Kind: mailer.KindKeychain, Stage: mailer.StageKeychain, Err: mailer.ErrPasswordNotFound}, 78},
		{"recipient rejected", &mailer.Error{Kind: mailer.KindRecipientRejected, Stage: mailer.StageRcpt, Reply: reply(550, "5.1.1", "no such user")}, 70},
		{"sender rejected", &mailer.Error{Kind: mailer.KindSenderRejected, Stage: mailer.StageSender}, 70},
		{"policy rejected", &mailer.Error{Kind: mailer.KindPolicyRejected, Stage: mailer.StageAccepted}, 70},
		{"unknown kind", &mailer.Error{Kind: mailer.KindUnknown}, 70},
		{"wrapped mailer error", fmt.Errorf("context: %w", &mailer.Error{Kind: mailer.KindAuth}), 77},
		{"plain error", errors.New("boom"), 70},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// Every kind the mailer can report has a deliberate exit code: a new kind
// falling through to 70 by accident shows up here.
func TestExitCode_EveryKind(t *testing.T) {
	for _, h := range mailer.Hints() {
		code := exitCode(&mailer.Error{Kind: h.Kind, Stage: mailer.StageSender})
		if code < 64 || code > 78 {
			t.Errorf("kind %s: exit code %d is not a sysexits code", h.Kind, code)
		}
	}
}

func TestOutputFail_JSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	c := &command{stdout: &stdout, stderr: &stderr}
	err := &mailer.Error{
		Kind:     mailer.KindRecipientRejected,
		Stage:    mailer.StageRcpt,
		Reply:    &mailer.Reply{Code: 550, Enhanced: "5.1.1", Text: "no such user"},
		Rejected: []string{"nobody@example.org"},
		Detail:   "refused nobody@example.org",
	}
	if code := newOutput(c, true).fail(err); code != 70 {
		t.Errorf("exit code %d, want 70", code)
	}
	var got map[string]any
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	if dec.More() {
		t.Errorf("stdout holds more than one JSON value")
	}
	want := map[string]any{
		"ok":       false,
		"kind":     "recipient-rejected",
		"stage":    "recipients",
		"reply":    "550 5.1.1 no such user",
		"rejected": []any{"nobody@example.org"},
		"error":    err.Error(),
		"hint":     err.Hint(),
	}
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q, want nothing", stderr.String())
	}
}

func TestOutputFail_Human(t *testing.T) {
	var stdout, stderr bytes.Buffer
	c := &command{stdout: &stdout, stderr: &stderr}
	err := &mailer.Error{Kind: mailer.KindAuth, Stage: mailer.StageLogin,
		Reply: &mailer.Reply{Code: 535, Enhanced: "5.7.8", Text: "Error: authentication failed"}}
	if code := newOutput(c, false).fail(err); code != 77 {
		t.Errorf("exit code %d, want 77", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 2 ||
		lines[0] != "postcard: "+err.Error() ||
		lines[1] != "hint: "+err.Hint() {
		t.Errorf("stderr =\n%s\nwant the error and the hint", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
}

// What came from outside is printed escaped: in human output as \x1b and
// \u009b, in JSON as JSON escapes that read back to the same text.
func TestOutput_EscapesControls(t *testing.T) {
	var stdout, stderr bytes.Buffer
	c := &command{stdout: escapeControls(&stdout), stderr: escapeControls(&stderr)}
	evil := "550 \x1b]0;t\x07 \u009b2J \x7f \u202e"
	newOutput(c, false).fail(&mailer.Error{Kind: mailer.KindUnknown, Detail: evil})
	newOutput(c, true).fail(&mailer.Error{Kind: mailer.KindUnknown, Detail: evil})
	for _, out := range []string{stdout.String(), stderr.String()} {
		if strings.ContainsAny(out, "\x1b\x07\x7f\u009b\u202e") {
			t.Errorf("raw control characters in %q", out)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil || m["error"] != "mailer: "+evil {
		t.Errorf("JSON %s reads back as %q (%v)", stdout.String(), m["error"], err)
	}
	if !strings.Contains(stderr.String(), `\x1b]0;t\x07 \u009b2J \u007f \u202e`) {
		t.Errorf("stderr %q", stderr.String())
	}
	if got := string(jsonEscapeControls([]byte("{\"a\":\"x\u0085y\x7f\u2066\"}"))); got != `{"a":"x\u0085y\u007f\u2066"}` {
		t.Errorf("jsonEscapeControls = %s", got)
	}
}
