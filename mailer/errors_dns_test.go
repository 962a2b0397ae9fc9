package mailer

import (
	"strings"
	"testing"
)

// The dns hint does not send the user in a circle: when the host already is
// iCloud's, it is about the network.
func TestHint_DNSOnICloudsHostIsAboutTheNetwork(t *testing.T) {
	icloud := &Error{Kind: KindDNS, Stage: StageResolve, Detail: `host "smtp.mail.me.com" not found`}
	if h := icloud.Hint(); strings.Contains(h, "Check the host name") || !strings.Contains(h, "network") {
		t.Errorf("hint for iCloud's host: %q", h)
	}
	other := &Error{Kind: KindDNS, Stage: StageResolve, Detail: `host "smtp.mail.me.con" not found`}
	if h := other.Hint(); !strings.Contains(h, "Check the host name") {
		t.Errorf("hint for a mistyped host: %q", h)
	}
}
