package mailer

import (
	"bufio"
	"net/textproto"
	"strings"
	"testing"
)

// The replies below are the wordings real servers send (iCloud's from
// FACTS.md, the others from Postfix, Exim, Gmail and Microsoft 365 / Outlook),
// as parseReply hands them to Classify: enhanced code split off, lines of a
// multi-line reply joined by a space.
func TestClassify(t *testing.T) {
	tests := []struct {
		name  string
		stage Stage
		reply Reply
		want  Kind
	}{
		// auth
		{"auth/iCloud wrong password", StageLogin,
			Reply{535, "5.7.8", "Error: authentication failed"}, KindAuth},
		{"auth/Gmail bad credentials", StageLogin,
			Reply{535, "5.7.8", "Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials"}, KindAuth},
		{"auth/Exim without enhanced code", StageLogin,
			Reply{535, "", "Incorrect authentication data"}, KindAuth},
		{"auth/Postfix with SASL challenge", StageLogin,
			Reply{535, "5.7.8", "Error: authentication failed: UGFzc3dvcmQ6"}, KindAuth},
		{"auth/Gmail app password required", StageLogin,
			Reply{534, "5.7.9", "Application-specific password required. For more information, go to https://support.google.com/mail/?p=InvalidSecondFactor"}, KindAuth},
		{"auth/Microsoft 365 basic auth disabled", StageLogin,
			Reply{535, "5.7.139", "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."}, KindAuth},
		{"auth/Microsoft unsuccessful", StageLogin,
			Reply{535, "5.7.3", "Authentication unsuccessful"}, KindAuth},
		{"auth/530 at MAIL FROM: the login did not stick", StageSender,
			Reply{530, "5.7.0", "Authentication required"}, KindAuth},
		{"auth/Exim 530 without enhanced code at MAIL FROM", StageSender,
			Reply{530, "", "Authentication required"}, KindAuth},

		// too-large
		{"too-large/Postfix and go-smtp after the dot", StageAccepted,
			Reply{552, "5.3.4", "Message size exceeds fixed limit"}, KindTooLarge},
		{"too-large/Postfix at MAIL FROM SIZE=", StageSender,
			Reply{552, "5.3.4", "Message size exceeds fixed limit"}, KindTooLarge},
		{"too-large/go-smtp during upload", StageData,
			Reply{552, "5.3.4", "Max message size exceeded"}, KindTooLarge},
		{"too-large/Exim without enhanced code", StageAccepted,
			Reply{552, "", "Message size exceeds maximum permitted"}, KindTooLarge},
		{"too-large/Gmail size limits", StageAccepted,
			Reply{552, "5.3.4", "Your message exceeded Google's message size limits. For more information, go to https://support.google.com/mail/?p=MaxSizeError"}, KindTooLarge},
		{"too-large/Microsoft", StageAccepted,
			Reply{552, "5.3.4", "Message size exceeds fixed maximum message size"}, KindTooLarge},
		{"too-large/5.2.3 administrative limit", StageAccepted,
			Reply{552, "5.2.3", "Message length exceeds administrative limit"}, KindTooLarge},

		// rate-limited
		{"rate-limited/iCloud daily limit at MAIL FROM", StageSender,
			Reply{550, "5.7.1", "Message rejected. You have exceeded your daily sending limit"}, KindRateLimited},
		{"rate-limited/iCloud daily limit after the dot", StageAccepted,
			Reply{550, "5.7.1", "Message rejected due to local policy. You have exceeded your daily sending limit"}, KindRateLimited},
		{"rate-limited/iCloud excessive volume", StageRcpt,
			Reply{421, "4.7.1", "<ann@icloud.com>: Service unavailable; deferred due to excessive volume"}, KindRateLimited},
		{"rate-limited/Gmail daily user limit", StageAccepted,
			Reply{550, "5.4.5", "Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852"}, KindRateLimited},
		{"rate-limited/Gmail daily quota at MAIL FROM", StageSender,
			Reply{550, "5.4.5", "Daily user sending quota exceeded."}, KindRateLimited},
		{"rate-limited/too many recipients", StageRcpt,
			Reply{452, "4.5.3", "Too many recipients"}, KindRateLimited},
		{"rate-limited/Gmail too many recipients", StageRcpt,
			Reply{452, "4.5.3", "Your message has too many recipients. For more information regarding Google's sending limits, visit https://support.google.com/mail/?p=TooManyRecipientsError"}, KindRateLimited},
		{"rate-limited/Exim ratelimit ACL without enhanced code", StageRcpt,
			Reply{451, "", "rate limit exceeded"}, KindRateLimited},
		{"rate-limited/Gmail unusual rate, temporarily", StageAccepted,
			Reply{421, "4.7.28", "[192.0.2.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited."}, KindRateLimited},
		{"rate-limited/Gmail too many logins", StageLogin,
			Reply{454, "4.7.0", "Too many login attempts, please try again later."}, KindRateLimited},
		{"rate-limited/Microsoft IP rate limit", StageSender,
			Reply{451, "4.7.650", "The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation."}, KindRateLimited},

		// policy-rejected
		{"policy-rejected/iCloud CS01", StageAccepted,
			Reply{554, "5.7.1", "[CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137"}, KindPolicyRejected},
		{"policy-rejected/iCloud HM08", StageAccepted,
			Reply{554, "5.7.1", "[HM08] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137"}, KindPolicyRejected},
		{"policy-rejected/Gmail unsolicited", StageAccepted,
			Reply{550, "5.7.1", "[192.0.2.1] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. For more information, go to https://support.google.com/mail/?p=UnsolicitedMessageError"}, KindPolicyRejected},
		{"policy-rejected/Gmail content with 552 and an enhanced code", StageAccepted,
			Reply{552, "5.7.0", "This message was blocked because its content presents a potential security issue."}, KindPolicyRejected},
		{"policy-rejected/Postfix RBL after the dot", StageAccepted,
			Reply{554, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1"}, KindPolicyRejected},
		{"policy-rejected/Postfix RBL at the greeting", StageGreeting,
			Reply{554, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"}, KindPolicyRejected},
		{"policy-rejected/plain 554 after the dot", StageAccepted,
			Reply{554, "", "Transaction failed"}, KindPolicyRejected},
		{"policy-rejected/Microsoft IP not accepted", StageAccepted,
			Reply{550, "5.7.708", "Service unavailable. Access denied, traffic not accepted from this IP."}, KindPolicyRejected},
		// Outlook.com's outbound spam filter suspending the account: a 554
		// after the data with x.2.0 and no limit word. Its hint (filter
		// refused the message, send from another service) fits it.
		{"policy-rejected/Outlook WASCL verdict", StageAccepted,
			Reply{554, "5.2.0", "STOREDRV.Submission.Exception:OutboundSpamException; WASCL UserAction verdict is not None. Actual verdict is Suspend, ShowTierUpgrade. OutboundSpamException: WASCL UserAction verdict is not None. Actual verdict is Suspend, ShowTierUpgrade."}, KindPolicyRejected},

		// sender-rejected
		{"sender-rejected/iCloud not one of your addresses", StageSender,
			Reply{550, "5.7.0", "From address is not one of your addresses"}, KindSenderRejected},
		{"sender-rejected/Postfix not owned at RCPT", StageRcpt,
			Reply{553, "5.7.1", "<boss@example.com>: Sender address rejected: not owned by user ann@icloud.com"}, KindSenderRejected},
		{"sender-rejected/Gmail 5.1.8 at MAIL FROM", StageSender,
			Reply{553, "5.1.8", "<ann@nonexistent.invalid>: Sender address rejected: Domain not found"}, KindSenderRejected},
		{"sender-rejected/Gmail 5.1.8 at RCPT", StageRcpt,
			Reply{553, "5.1.8", "<ann@nonexistent.invalid>: Sender address rejected: Domain not found"}, KindSenderRejected},
		{"sender-rejected/Exim sender verify", StageSender,
			Reply{550, "", "Verification failed for <ann@nonexistent.invalid> Unrouteable address Sender verify failed"}, KindSenderRejected},
		{"sender-rejected/Microsoft send-as at MAIL FROM", StageSender,
			Reply{550, "5.7.60", "SMTP; Client does not have permissions to send as this sender"}, KindSenderRejected},
		{"sender-rejected/Postfix data restriction after the dot", StageAccepted,
			Reply{554, "5.7.1", "<boss@example.com>: Sender address rejected: Access denied"}, KindSenderRejected},
		{"sender-rejected/Microsoft send-as after the dot", StageAccepted,
			Reply{554, "5.2.0", "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message."}, KindSenderRejected},

		// recipient-rejected
		{"recipient-rejected/Postfix user unknown", StageRcpt,
			Reply{550, "5.1.1", "<bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table"}, KindRecipientRejected},
		{"recipient-rejected/Gmail no such user", StageRcpt,
			Reply{550, "5.1.1", "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser"}, KindRecipientRejected},
		{"recipient-rejected/Exim unrouteable without enhanced code", StageRcpt,
			Reply{550, "", "Unrouteable address"}, KindRecipientRejected},
		{"recipient-rejected/mailbox full is not our limit", StageRcpt,
			Reply{552, "5.2.2", "Mailbox full / quota exceeded"}, KindRecipientRejected},
		{"recipient-rejected/Microsoft recipient not found", StageRcpt,
			Reply{550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"}, KindRecipientRejected},
		{"recipient-rejected/Microsoft access denied", StageRcpt,
			Reply{550, "5.4.1", "Recipient address rejected: Access denied. [AM0PR01MB0001.eurprd01.prod.outlook.com]"}, KindRecipientRejected},
		// RFC 5321's own text for 552, which some servers send as is.
		{"recipient-rejected/RFC 5321 storage allocation without enhanced code", StageRcpt,
			Reply{552, "", "Requested mail action aborted: exceeded storage allocation"}, KindRecipientRejected},
		{"recipient-rejected/mailbox quota without enhanced code", StageRcpt,
			Reply{550, "", "Mailbox quota exceeded"}, KindRecipientRejected},
		{"recipient-rejected/Postfix relay denied", StageRcpt,
			Reply{554, "5.7.1", "<bob@example.com>: Relay access denied"}, KindRecipientRejected},

		// temporary
		{"temporary/iCloud try again later", StageSender,
			Reply{451, "4.7.1", "Service unavailable - try again later"}, KindTemporary},
		{"temporary/iCloud try again later after the dot", StageAccepted,
			Reply{451, "4.7.1", "Service unavailable - try again later"}, KindTemporary},
		{"temporary/Postfix unverified recipient", StageRcpt,
			Reply{450, "4.1.1", "<bob@example.com>: Recipient address rejected: unverified address: host mx.example.com[192.0.2.2] said: 550 5.1.1 <bob@example.com>: User unknown"}, KindTemporary},
		{"temporary/Gmail closing connection", StageGreeting,
			Reply{421, "4.7.0", "Try again later, closing connection. (EHLO)"}, KindTemporary},
		{"temporary/server error", StageAccepted,
			Reply{451, "4.3.0", "Temporary server error. Please try again later"}, KindTemporary},
		{"temporary/Exim without enhanced code", StageRcpt,
			Reply{451, "", "Temporary local problem - please try later"}, KindTemporary},
		{"temporary/Postfix greylisting", StageRcpt,
			Reply{450, "4.2.0", "<bob@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html"}, KindTemporary},
		{"temporary/Gmail mailbox over quota for now", StageRcpt,
			Reply{452, "4.2.2", "The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp"}, KindTemporary},
		{"temporary/Microsoft server busy", StageSender,
			Reply{451, "4.7.500", "Server busy. Please try again later from [192.0.2.1]. (S77719)"}, KindTemporary},
		{"temporary/authentication backend down", StageLogin,
			Reply{454, "4.7.0", "Temporary authentication failure"}, KindTemporary},

		// tls-unavailable
		{"tls-unavailable/encryption required", StageLogin,
			Reply{538, "5.7.11", "Encryption required for requested authentication mechanism"}, KindTLSUnavailable},
		{"tls-unavailable/538 without enhanced code", StageLogin,
			Reply{538, "", "Encryption required"}, KindTLSUnavailable},

		// unknown
		{"unknown/2xx is not a failure", StageAccepted,
			Reply{250, "2.0.0", "OK queued as 4Xyz"}, KindUnknown},
		{"unknown/3xx is not a failure", StageData,
			Reply{354, "", "End data with <CR><LF>.<CR><LF>"}, KindUnknown},
		{"unknown/out of range", StageSender,
			Reply{600, "", "nonsense"}, KindUnknown},
		{"unknown/no code", StageSender,
			Reply{0, "", ""}, KindUnknown},
		{"unknown/5xx greeting without policy words", StageGreeting,
			Reply{521, "5.3.2", "mx.example.com does not accept mail"}, KindUnknown},
		{"unknown/EHLO not understood", StageGreeting,
			Reply{502, "5.5.2", "Error: command not recognized"}, KindUnknown},

		// Only the enhanced code differs: codes decide before words.
		{"enhanced only/5.1.1 recipient", StageRcpt,
			Reply{550, "5.1.1", "Requested action not taken"}, KindRecipientRejected},
		{"enhanced only/5.1.8 sender", StageRcpt,
			Reply{550, "5.1.8", "Requested action not taken"}, KindSenderRejected},
		{"enhanced only/5.5.3 too many recipients", StageRcpt,
			Reply{550, "5.5.3", "Requested action not taken"}, KindRateLimited},
		{"enhanced only/5.3.4 too big", StageRcpt,
			Reply{550, "5.3.4", "Requested action not taken"}, KindTooLarge},
		{"enhanced only/5.4.5 daily quota", StageAccepted,
			Reply{550, "5.4.5", "Requested action not taken"}, KindRateLimited},
		// "quota exceeded" reads like a limit, but x.2.2 is the
		// recipient's mailbox, and x.4.5 is the sender's quota.
		{"enhanced only/quota 5.2.2 is the mailbox", StageRcpt,
			Reply{552, "5.2.2", "Quota exceeded"}, KindRecipientRejected},
		{"enhanced only/quota 5.4.5 is the sender", StageRcpt,
			Reply{552, "5.4.5", "Quota exceeded"}, KindRateLimited},
		// A bare 552 after the data is a size problem; with 5.7.1 it is the
		// content filter.
		{"enhanced only/552 without code is size", StageAccepted,
			Reply{552, "", "Message rejected"}, KindTooLarge},
		{"enhanced only/552 5.7.1 is policy", StageAccepted,
			Reply{552, "5.7.1", "Message rejected"}, KindPolicyRejected},

		// Only the stage differs.
		{"stage only/5.7.1 at MAIL FROM is the sender", StageSender,
			Reply{550, "5.7.1", "Access denied"}, KindSenderRejected},
		{"stage only/5.7.1 at RCPT is the recipient", StageRcpt,
			Reply{550, "5.7.1", "Access denied"}, KindRecipientRejected},
		{"stage only/5.7.1 after the dot is policy", StageAccepted,
			Reply{550, "5.7.1", "Access denied"}, KindPolicyRejected},
		{"stage only/535 at AUTH", StageLogin,
			Reply{535, "5.7.8", "Error: authentication failed"}, KindAuth},
		{"stage only/552 at RCPT is not size", StageRcpt,
			Reply{552, "", "Requested mail action aborted: mailbox full"}, KindRecipientRejected},
		{"stage only/552 after the dot is size", StageAccepted,
			Reply{552, "", "Requested mail action aborted: mailbox full"}, KindTooLarge},
	}
	seen := map[Kind]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.stage, tt.reply); got != tt.want {
				t.Errorf("Classify(%s, %q) = %s, want %s", tt.stage, tt.reply.String(), got, tt.want)
			}
		})
		seen[tt.want] = true
	}
	// Every kind Classify can return from a reply has rows.
	for _, k := range []Kind{KindAuth, KindTooLarge, KindRateLimited, KindPolicyRejected,
		KindSenderRejected, KindRecipientRejected, KindTemporary, KindTLSUnavailable, KindUnknown} {
		if !seen[k] {
			t.Errorf("no row for kind %s", k)
		}
	}
}

// parseReply gets the reply as readReply reads it off the wire, so the rows
// hold the server's bytes.
func TestParseReply(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want Reply
	}{
		{"single line with enhanced code",
			"535 5.7.8 Error: authentication failed\r\n",
			Reply{535, "5.7.8", "Error: authentication failed"}},
		{"single line without enhanced code",
			"535 Incorrect authentication data\r\n",
			Reply{535, "", "Incorrect authentication data"}},
		{"multi-line, code on every line",
			"550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n" +
				"550-5.1.1 double-checking the recipient's email address for typos or\r\n" +
				"550 5.1.1 unnecessary spaces.\r\n",
			Reply{550, "5.1.1", "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces."}},
		{"multi-line without enhanced code",
			"550-Verification failed for <ann@nonexistent.invalid>\r\n" +
				"550-Unrouteable address\r\n" +
				"550 Sender verify failed\r\n",
			Reply{550, "", "Verification failed for <ann@nonexistent.invalid> Unrouteable address Sender verify failed"}},
		{"enhanced code only",
			"250 2.0.0\r\n",
			Reply{250, "2.0.0", ""}},
		{"three-digit detail",
			"535 5.7.139 Authentication unsuccessful\r\n",
			Reply{535, "5.7.139", "Authentication unsuccessful"}},
		{"extra spaces after the enhanced code",
			"554 5.7.1   [CS01] Message rejected due to local policy\r\n",
			Reply{554, "5.7.1", "[CS01] Message rejected due to local policy"}},
		{"number glued to text is not an enhanced code",
			"421 4.7.0try again\r\n",
			Reply{421, "", "4.7.0try again"}},
		{"version number in text is not an enhanced code",
			"554 Exim 4.96 says no\r\n",
			Reply{554, "", "Exim 4.96 says no"}},
		{"class 3 is not an enhanced code",
			"554 3.1.4 pi\r\n",
			Reply{554, "", "3.1.4 pi"}},
		{"empty continuation line",
			"554-5.7.1 Rejected\r\n554-5.7.1\r\n554 5.7.1 by policy\r\n",
			Reply{554, "5.7.1", "Rejected by policy"}},
		{"control characters escaped",
			"554 5.7.1 \x1b]0;title\x07 \xc2\x9b2J \xff\r\n",
			Reply{554, "5.7.1", `\x1b]0;title\x07 \u009b2J \xff`}},
		{"bare LF and code alone",
			"250-first\n250\n",
			Reply{250, "", "first"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, text, err := readReply(bufio.NewReaderSize(strings.NewReader(tt.wire), maxReplyLine))
			if err != nil {
				t.Fatalf("readReply: %v", err)
			}
			te := &textproto.Error{Code: code, Msg: text}
			if got := parseReply(te); *got != tt.want {
				t.Errorf("parseReply(%q) = %+v, want %+v", te.Msg, *got, tt.want)
			}
		})
	}
}

func TestReply_String(t *testing.T) {
	tests := []struct {
		reply *Reply
		want  string
	}{
		{&Reply{535, "5.7.8", "Error: authentication failed"}, "535 5.7.8 Error: authentication failed"},
		{&Reply{550, "", "Unrouteable address"}, "550 Unrouteable address"},
		{&Reply{250, "2.0.0", ""}, "250 2.0.0"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := tt.reply.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
