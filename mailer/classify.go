package mailer

import (
	"net/textproto"
	"regexp"
	"strings"
)

var enhancedRE = regexp.MustCompile(`^([245])\.(\d{1,3})\.(\d{1,3})(\s+|$)`)

// parseReply splits a reply as readReply returns it ("5.7.8 Error: ...",
// lines joined by "\n") into code, enhanced code and text, the text made
// Printable.
func parseReply(te *textproto.Error) *Reply {
	r := &Reply{Code: te.Code}
	var lines []string
	for i, line := range strings.Split(te.Msg, "\n") {
		if m := enhancedRE.FindStringSubmatch(line); m != nil {
			if i == 0 {
				r.Enhanced = strings.TrimSpace(strings.TrimSuffix(m[0], m[4]))
			}
			line = line[len(m[0]):]
		}
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	r.Text = Printable(strings.Join(lines, " "))
	return r
}

// Words used only to break ties between kinds that codes cannot tell apart.
var (
	rateWordsRE    = regexp.MustCompile(`\b(rate|rates|limit|limits|limited|exceeded|quota|volume|too many|daily|throttl\w*)\b`)
	policyWordsRE  = regexp.MustCompile(`\b(spam|policy|policies|reputation|blocked|block ?list(ed)?|black ?list(ed)?|content|virus|malware|unsolicited|suspicious)\b|\[(cs|hm)\d\d\]`)
	senderWordsRE  = regexp.MustCompile(`\b(sender|from address|not one of your|not owned|send ?as( ?denied\w*)?|not (allowed|authori[sz]ed|permitted) to send|your addresses|mail from)\b`)
	mailboxWordsRE = regexp.MustCompile(`\b(mailbox|storage)\b`)
)

// Classify says what kind of failure a server reply at a stage means. It
// goes by the reply code, the enhanced code and the stage; the wording only
// breaks ties (a 5.7.1 may be a policy, a limit or a sender problem).
func Classify(stage Stage, r Reply) Kind {
	code := r.Code
	class, subject, detail := splitEnhanced(r.Enhanced)
	sd := subject + "." + detail
	text := strings.ToLower(r.Text)
	temp := code >= 400 && code < 500
	perm := code >= 500 && code < 600

	if code < 400 || code >= 600 {
		return KindUnknown
	}
	// Size: 5.3.4 message too big for system, 5.2.3 over the
	// administrative limit, or a bare 552 where no recipient is involved.
	if sd == "3.4" || sd == "2.3" ||
		(code == 552 && class == "" && stage != StageRcpt) {
		return KindTooLarge
	}
	if stage == StageLogin {
		switch {
		case code == 535 || code == 534 || code == 530 || (perm && (sd == "7.8" || sd == "7.9" || sd == "7.0")):
			return KindAuth
		case code == 538 || sd == "7.11":
			return KindTLSUnavailable
		}
	}
	// Limits: x.4.5 congestion (Gmail's daily quota), x.5.3 too many
	// recipients, or limit words on a 4xx/5xx.
	// Address-status (x.1.x) and mailbox-status (x.2.x) replies are about
	// one recipient ("mailbox quota exceeded"), never the sender's limits;
	// without an enhanced code, the words "mailbox" or "storage" say so.
	mailbox := subject == "1" || subject == "2" || (class == "" && mailboxWordsRE.MatchString(text))
	if sd == "4.5" || sd == "5.3" || (!mailbox && rateWordsRE.MatchString(text)) {
		return KindRateLimited
	}
	if (stage == StageData || stage == StageAccepted || stage == StageGreeting) && policyWordsRE.MatchString(text) {
		return KindPolicyRejected
	}
	// Asked to log in although we did: treat as a login problem.
	if code == 530 || code == 535 {
		return KindAuth
	}
	if temp {
		return KindTemporary
	}
	switch stage {
	case StageSender:
		return KindSenderRejected
	case StageRcpt:
		// x.1.7 and x.1.8 are about the sender's address, and some servers
		// refuse the sender only when they see the recipients.
		if sd == "1.7" || sd == "1.8" || (subject == "7" && senderWordsRE.MatchString(text)) {
			return KindSenderRejected
		}
		return KindRecipientRejected
	case StageData, StageAccepted:
		// Microsoft refuses a From it does not own only after the data
		// (SendAsDenied); policy words were ruled out above.
		if senderWordsRE.MatchString(text) {
			return KindSenderRejected
		}
		if subject == "7" || subject == "6" || code == 554 || code == 550 {
			return KindPolicyRejected
		}
	case StageGreeting:
		if subject == "7" || code == 554 {
			return KindPolicyRejected
		}
	}
	return KindUnknown
}

func splitEnhanced(s string) (class, subject, detail string) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return "", "", ""
	}
	return parts[0], parts[1], parts[2]
}
