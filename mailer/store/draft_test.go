package store

import (
	"strings"
	"testing"

	"github.com/postcard-mail/postcard/mailer"
)

func TestDraft_MentionsAttachment(t *testing.T) {
	for _, tc := range []struct {
		body string
		want bool
	}{
		{"I attached the file", true},
		{"See the attachment.", true},
		{"Attachments below", true},
		{"Please find the invoice enclosed.", true},
		{"> see attached\nthanks", false},
		{"   > attach\n", false},
		{"This is unattached text", false},
		{"nothing here", false},
	} {
		if got := (Draft{Body: tc.body}).MentionsAttachment(); got != tc.want {
			t.Errorf("MentionsAttachment(%q) = %v, want %v", tc.body, got, tc.want)
		}
	}
}

func TestDraft_Validate(t *testing.T) {
	for _, tc := range []struct {
		d       Draft
		wantErr string
	}{
		{Draft{To: "a@example.com"}, ""},
		{Draft{Bcc: "Ann <a@example.com>; b@example.org"}, ""},
		{Draft{}, "no recipients"},
		{Draft{To: "a@example.com", Cc: "bob@"}, `Cc: "bob@"`},
	} {
		err := tc.d.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("Validate(%+v) = %v", tc.d, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("Validate(%+v) = %v, want %q", tc.d, err, tc.wantErr)
		case err != nil && mailer.KindOf(err) != mailer.KindInvalidMessage:
			t.Errorf("kind %s", mailer.KindOf(err))
		}
	}
}
