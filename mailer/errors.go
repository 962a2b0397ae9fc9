package mailer

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is the stable name of a class of failure. Callers branch on it, the
// CLI prints it, and each Kind has one Hint.
type Kind string

// The kinds of failure. Their string values are part of the CLI's output and
// must not change.
const (
	KindAuth              Kind = "auth"
	KindTLSMode           Kind = "tls-mode"
	KindTLSCertificate    Kind = "tls-certificate"
	KindTLSUnavailable    Kind = "tls-unavailable"
	KindTLSVersion        Kind = "tls-version" // the server speaks only TLS 1.0 or 1.1
	KindConnectTimeout    Kind = "connect-timeout"
	KindConnectRefused    Kind = "connect-refused"
	KindDNS               Kind = "dns"
	KindSenderRejected    Kind = "sender-rejected"
	KindRecipientRejected Kind = "recipient-rejected"
	KindRateLimited       Kind = "rate-limited"
	KindPolicyRejected    Kind = "policy-rejected"
	KindTooLarge          Kind = "too-large"
	KindTemporary         Kind = "temporary"
	KindConnectionLost    Kind = "connection-lost"
	KindCancelled         Kind = "cancelled"
	KindTimeout           Kind = "timeout"
	KindInvalidMessage    Kind = "invalid-message"
	KindInvalidAccount    Kind = "invalid-account"
	KindKeychain          Kind = "keychain"
	KindSentFolderMissing Kind = "sent-folder-missing" // IMAP: no Sent folder to file the copy in
	KindMailboxFull       Kind = "mailbox-full"        // IMAP: the storage is full (NO [OVERQUOTA])
	KindProtocol          Kind = "protocol"            // a reply too long, or not a reply at all
	KindUnknown           Kind = "unknown"
)

// Stage names the step of a send or check at which something happened.
type Stage string

// The stages, in the order a session goes through them. On port 587 the
// greeting comes before TLS; on port 465 TLS comes first.
const (
	StageValidate Stage = "validate"
	StageKeychain Stage = "keychain"
	StageResolve  Stage = "resolve"
	StageConnect  Stage = "connect"
	StageGreeting Stage = "greeting"
	StageTLS      Stage = "tls"
	StageLogin    Stage = "login"
	StageSender   Stage = "sender"     // MAIL FROM
	StageRcpt     Stage = "recipients" // RCPT TO
	StageData     Stage = "data"       // DATA and the upload of the message
	StageAccepted Stage = "accepted"   // the server's reply after the final dot
	StageQuit     Stage = "quit"

	// Filing the copy of a sent message over IMAP, after StageLogin.
	StageFolder Stage = "folder" // finding the Sent folder
	StageSearch Stage = "search" // looking for the message in it
	StageAppend Stage = "append" // APPEND and the upload of the copy

	// Reading the contacts over CardDAV, after StageLogin (the first
	// request that carries the login).
	StageDiscover Stage = "discover" // finding the address books
	StageCards    Stage = "cards"    // reading the cards
)

// Reply is an SMTP server reply.
type Reply struct {
	Code     int    `json:"code"`
	Enhanced string `json:"enhanced,omitempty"` // e.g. "5.7.8", when the server sent one
	Text     string `json:"text"`
}

// String formats the reply as the server sent it: "535 5.7.8 Error: authentication failed".
func (r *Reply) String() string {
	if r == nil {
		return ""
	}
	parts := []string{fmt.Sprint(r.Code)}
	if r.Enhanced != "" {
		parts = append(parts, r.Enhanced)
	}
	if r.Text != "" {
		parts = append(parts, r.Text)
	}
	return strings.Join(parts, " ")
}

// Temporary reports whether the reply is a 4xx.
func (r *Reply) Temporary() bool { return r != nil && r.Code >= 400 && r.Code < 500 }

// Error is the one error type of this package. Send, Check, the keychain,
// account and message validation all return an *Error, so every caller gets
// the same diagnosis. It never contains the password.
type Error struct {
	Kind  Kind
	Stage Stage
	// Reply is the server's reply, when the failure was one.
	Reply *Reply
	// Rejected lists the recipients the server refused (KindRecipientRejected).
	Rejected []string
	// Setting names the account setting at fault when the failure is one
	// of the account's (KindInvalidAccount); see also Error.Fix.
	Setting Setting
	// Protocol is the service the failure came from: "" for sending
	// (SMTP), ProtocolIMAP for the copy in the Sent folder,
	// ProtocolCardDAV for reading the contacts.
	Protocol Protocol
	// AfterSend marks a failure filing the copy of a message already
	// sent: its hint says the message itself went. A check of the IMAP
	// settings, or a look for a message whose fate is unknown, sent
	// nothing.
	AfterSend bool
	// Detail says in a few words what went wrong, naming the bad input; it
	// is the part of Error() after the stage.
	Detail string
	// Err is the underlying error, kept for details; it may be nil.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("mailer: ")
	if e.Stage != "" {
		b.WriteString(string(e.Stage))
		b.WriteString(": ")
	}
	switch {
	case e.Detail != "":
		b.WriteString(e.Detail)
	case e.Reply != nil:
		b.WriteString(e.Reply.String())
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString(string(e.Kind))
	}
	if e.Detail != "" && e.Reply != nil {
		b.WriteString(" (server said: ")
		b.WriteString(e.Reply.String())
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Hint returns what the user should do about e, in one to three sentences.
func (e *Error) Hint() string {
	h := HintFor(e.Kind)
	if e.Kind == KindDNS && namesICloudHost(e.Detail) {
		// The name is right: telling the user to check it goes in a
		// circle. The network is what fails.
		return hintDNSNetwork
	}
	if e.Protocol == ProtocolIMAP {
		text := h.Text
		if t, ok := imapHints[e.Kind]; ok {
			text = t
		}
		if e.Kind == KindMailboxFull || e.Kind == KindSentFolderMissing {
			return text // they say it themselves
		}
		if !e.AfterSend {
			return text
		}
		return "The message was sent; only its copy in the Sent folder was not saved. " + text
	}
	if e.Protocol == ProtocolCardDAV {
		if t, ok := cardDAVHints[e.Kind]; ok {
			return t
		}
		return h.Text
	}
	if e.Kind == KindRecipientRejected && len(e.Rejected) > 0 {
		return fmt.Sprintf("The server refused %s. %s", strings.Join(e.Rejected, ", "), h.Text)
	}
	if e.MaybeDelivered() {
		return hintLostAfterUpload
	}
	return h.Text
}

// Protocol names a service other than sending that an *Error can come from.
type Protocol string

// The services besides sending.
const (
	ProtocolIMAP    Protocol = "imap"    // filing the copy in the Sent folder
	ProtocolCardDAV Protocol = "carddav" // reading the contacts
)

// imapHints replace the sending hints for a failure of the copy in the
// Sent folder: the message itself was sent.
var imapHints = map[Kind]string{
	KindTLSMode:        "Port 993 uses SSL/TLS and port 143 uses STARTTLS. Switch the IMAP encryption setting to match the port.",
	KindTLSCertificate: "The IMAP server's certificate is not valid for this host, so the connection was stopped before the password was sent. Check that the IMAP host is imap.mail.me.com; on a corporate or public network, something may be intercepting the connection.",
	KindTLSUnavailable: "The IMAP server did not offer encryption, so Postcard did not send your password. Check the IMAP host and port (iCloud: imap.mail.me.com, 993).",
	KindConnectTimeout: "The IMAP server did not answer; your network may block port 993. Postcard tries again later.",
	KindConnectRefused: "Nothing answered on that port. Check the IMAP host and port: iCloud uses imap.mail.me.com on port 993 (SSL/TLS).",
	KindDNS:            "The IMAP server's name was not found. Check the IMAP host (iCloud's is imap.mail.me.com) and your internet connection; Postcard tries again later.",
	KindTemporary:      "The IMAP server could not take the copy right now. Postcard tries again later; the copy is never filed twice.",
	KindConnectionLost: "The connection to the IMAP server was lost. Postcard tries again later; the copy is never filed twice.",
	KindTimeout:        "The IMAP server stopped answering. Postcard tries again later; the copy is never filed twice.",
	KindUnknown:        "The details below say what the IMAP server or the system reported. Try again from the Sent list.",
}

// cardDAVHints replace the sending hints for a failure to read the
// contacts: nothing was sent, and the contacts saved before still serve.
var cardDAVHints = map[Kind]string{
	KindAuth:           "The contacts server refused the username or password. iCloud Contacts takes the same full iCloud address and app-specific password as sending; another CardDAV server must accept that login too. Suggestions from the contacts saved before still work.",
	KindTLSCertificate: "The contacts server's certificate is not valid for this host, so the connection was stopped before the password was sent. Check the contacts server (iCloud's is https://contacts.icloud.com); on a corporate or public network, something may be intercepting the connection.",
	KindTLSUnavailable: "The contacts server, or a server it sent Postcard on to, does not speak https, so Postcard did not send your password. Use an https:// address for the contacts server.",
	KindConnectTimeout: "The contacts server did not answer; your network may block it. Try again later; suggestions from the contacts saved before still work.",
	KindConnectRefused: "Nothing answered at the contacts server's address. Check the contacts server (iCloud's is https://contacts.icloud.com).",
	KindDNS:            "The contacts server's name was not found. Check the contacts server (iCloud's is https://contacts.icloud.com) and your internet connection; suggestions from the contacts saved before still work.",
	KindTemporary:      "The contacts server could not answer right now. Try again in a few minutes; suggestions from the contacts saved before still work.",
	KindConnectionLost: "The connection to the contacts server was lost. Try again; suggestions from the contacts saved before still work.",
	KindTimeout:        "The contacts server stopped answering. Try again later; suggestions from the contacts saved before still work.",
	KindCancelled:      "The sync of the contacts was cancelled; the contacts saved before are kept.",
	KindTooLarge:       "The address book is larger than Postcard reads. Export the contacts you write to as a .vcf file and import that instead.",
	KindInvalidAccount: "The contacts server must be an https:// address, like https://contacts.icloud.com, without a login in it; the username and password are the account's.",
	KindUnknown:        "The details below say what the contacts server or the system reported. Check the contacts server (iCloud's is https://contacts.icloud.com), then try again.",
}

// hintDNSNetwork is the dns hint when the host is iCloud's own.
const hintDNSNetwork = "The host name is iCloud's and right, but this computer could not look it up: it is not connected to the internet, or its network blocks name lookups. Check Wi-Fi or the cable, a VPN or proxy, or a captive portal (a hotel or café sign-in page); Postcard tries again by itself."

// namesICloudHost reports whether detail names one of iCloud's hosts.
func namesICloudHost(detail string) bool {
	for _, h := range []string{ICloudHost, ICloudIMAPHost, "contacts.icloud.com"} {
		if strings.Contains(strings.ToLower(detail), h) {
			return true
		}
	}
	return false
}

// MaybeDelivered reports whether the server may have the message although
// the send failed: the whole message was uploaded, the final dot written,
// and the server's verdict never came (the connection was lost, timed out or
// was cancelled). Sending it again may deliver it twice.
func (e *Error) MaybeDelivered() bool {
	return e.Stage == StageAccepted && e.Reply == nil
}

// MaybeDelivered reports whether err is an *Error that may have delivered
// the message (see Error.MaybeDelivered).
func MaybeDelivered(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.MaybeDelivered()
}

// MayPass reports whether the failure may pass by itself, so that sending
// the same message again later, unchanged, may work without delivering it
// twice: the network was away (dns, connect-refused, connect-timeout), the
// server was busy or limited for now (a 4xx), or the connection was lost or
// timed out before the upload finished. Anything else needs the user.
func (e *Error) MayPass() bool {
	if e.MaybeDelivered() {
		return false
	}
	switch e.Kind {
	case KindDNS, KindConnectRefused, KindConnectTimeout:
		return true
	}
	return e.Temporary()
}

// MayPass reports whether err is an *Error that may pass by itself (see
// Error.MayPass).
func MayPass(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.MayPass()
}

// Fix names the setting the user should look at to fix e, or "" when no
// setting is at fault: the password for a refused login, the host for a
// name not found or nothing answering, the encryption for a mismatch with
// the port, the From address for a refused sender.
func (e *Error) Fix() Setting {
	if e.Setting != "" {
		return e.Setting
	}
	if e.Protocol == ProtocolIMAP {
		switch e.Kind {
		case KindAuth, KindKeychain:
			return SettingPassword
		case KindDNS, KindConnectRefused, KindTLSCertificate, KindTLSUnavailable:
			return SettingIMAPHost
		case KindConnectTimeout:
			return SettingIMAPPort
		case KindTLSMode:
			return SettingIMAPSec
		}
		return ""
	}
	if e.Protocol == ProtocolCardDAV {
		switch e.Kind {
		case KindAuth, KindKeychain:
			return SettingPassword
		case KindDNS, KindConnectRefused, KindConnectTimeout, KindTLSCertificate, KindTLSUnavailable:
			return SettingContactsURL
		}
		return ""
	}
	switch e.Kind {
	case KindAuth, KindKeychain:
		return SettingPassword
	case KindDNS, KindConnectRefused, KindTLSCertificate, KindTLSUnavailable, KindTLSVersion, KindProtocol:
		return SettingHost
	case KindConnectTimeout:
		return SettingPort
	case KindTLSMode:
		return SettingSecurity
	case KindSenderRejected:
		return SettingFrom
	}
	return ""
}

// Temporary reports whether trying the same thing again later may work
// without risk of delivering twice.
func (e *Error) Temporary() bool {
	if e.MaybeDelivered() {
		return false // the server may have the message
	}
	switch e.Kind {
	case KindTemporary, KindConnectionLost, KindTimeout:
		return true
	case KindRateLimited:
		return e.Reply == nil || e.Reply.Temporary()
	}
	return false
}

// KindOf returns the Kind of err: the Kind of the first *Error in its chain,
// KindUnknown for any other non-nil error, and "" for nil.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

// Hint is the advice shown for one Kind. Title is a few words for a heading;
// Text is one to three plain sentences saying what to do. The texts come from
// the iCloud SMTP setup guide users follow today.
type Hint struct {
	Kind  Kind
	Title string
	Text  string
}

const hintLostAfterUpload = "The whole message was uploaded but the server's confirmation never came, so it may or may not have been delivered. iCloud may not file messages sent by other apps in its Sent folder, so not finding it there proves nothing: ask a recipient, or look in a copy you were sent, before you send it again."

// HintNotFoundInSent is the hint for a message whose send's outcome is
// unknown and that was looked for, and not found, in the Sent folder.
const HintNotFoundInSent = "Postcard looked for it in your Sent folder and did not find it. iCloud may not file messages sent by other apps there, so it cannot be known whether it was delivered: ask a recipient before you send it again."

var hints = []Hint{
	{KindAuth, "iCloud refused the password",
		"iCloud needs an app-specific password, not your Apple ID password. Create one at appleid.apple.com under Sign-In and Security (two-factor authentication must be on) and use your full iCloud address as the username. If it still fails, look for a \"Sign-In Attempt Was Blocked\" email from Apple and approve the access."},
	{KindTLSMode, "The encryption does not match the port",
		"Port 587 uses STARTTLS and port 465 uses SSL/TLS. Switch the encryption setting to match the port."},
	{KindTLSCertificate, "The server's certificate could not be trusted",
		"The server's certificate is not valid for this host, so the connection was stopped before the password was sent. Check that the host is smtp.mail.me.com; on a corporate or public network, something may be intercepting the connection: try another network."},
	{KindTLSUnavailable, "The connection could not be secured",
		"The server did not offer encryption (STARTTLS), so Postcard did not send your password. Check the host and port; a network that strips encryption may be in the way: try another network."},
	{KindTLSVersion, "The server's encryption is too old",
		"The server offers only TLS 1.0 or 1.1, which are no longer safe, so Postcard stopped before sending your password. iCloud speaks current TLS: check that the host is smtp.mail.me.com. If it is a server of your own, turn on TLS 1.2 or later there."},
	{KindConnectTimeout, "The server did not answer",
		"Port 587 may be blocked by your network; corporate firewalls often block it. Try port 465 with SSL/TLS instead."},
	{KindConnectRefused, "Nothing answered on that port",
		"The server refused the connection. Check the host and port: iCloud uses smtp.mail.me.com on port 587 (STARTTLS) or 465 (SSL/TLS)."},
	{KindDNS, "The server's name was not found",
		"Check the host name (iCloud's is smtp.mail.me.com) and your internet connection."},
	{KindSenderRejected, "iCloud refused the From address",
		"The From address must be your iCloud address, one of its aliases, or a custom-domain address of this account. Pick another address in the From menu (add your aliases in Settings), and sign in with the primary iCloud address as the username."},
	{KindRecipientRejected, "A recipient was refused",
		"Nothing was sent to anyone. Correct or remove the refused addresses and send again."},
	{KindRateLimited, "iCloud's sending limit was reached",
		"iCloud limits how many messages and recipients you can send each day. Wait and try again later; iCloud is not meant for bulk mail, which needs a dedicated email service."},
	{KindPolicyRejected, "iCloud's filter refused the message",
		"iCloud's content or reputation filter rejected the message, so it was not delivered. Change what looks like bulk mail or spam (links, attachments, wording) or send it from another service."},
	{KindTooLarge, "The message is too large",
		"iCloud accepts at most 20 MB per message, attachments included after encoding. Send fewer or smaller attachments, or share large files by link."},
	{KindTemporary, "The server is busy",
		"The server could not take the message right now, so nothing was sent. Try again in a few minutes."},
	{KindConnectionLost, "The connection dropped",
		"The connection was lost before the server accepted the message, so it was not sent. It is safe to try again."},
	{KindCancelled, "Cancelled",
		"You cancelled before the server accepted the message, so it was not sent."},
	{KindTimeout, "The server stopped answering",
		"The server took too long to answer, so the message was not sent. Check your connection and try again."},
	{KindInvalidMessage, "The message cannot be sent as it is",
		"The message names the field, address or attachment that is wrong. Correct it and send again; nothing was sent."},
	{KindInvalidAccount, "The account settings are incomplete",
		"The message names the setting that is wrong. For iCloud use host smtp.mail.me.com, port 587 with STARTTLS, and your full iCloud address as the username."},
	{KindKeychain, "The keychain could not be used",
		"Postcard keeps the app-specific password in the system keychain. Unlock the keychain (or install and start one, such as GNOME Keyring) and try again, or sign in again to store the password."},
	{KindSentFolderMissing, "No Sent folder was found",
		"The message was sent, but the mail server has no Sent folder (none is marked as Sent, and none is named Sent Messages, Sent, Sent Items or Sent Mail), so its copy was not saved. Postcard never creates folders: create a folder named Sent Messages in iCloud Mail, then try again."},
	{KindMailboxFull, "Your iCloud storage is full",
		"Your iCloud storage is full; the message was sent, but its copy could not be saved in Sent. Free up iCloud storage, then try again."},
	{KindProtocol, "The server sent a reply Postcard cannot accept",
		"The server's reply was far longer than mail servers send, or not an SMTP reply at all, so Postcard closed the connection; nothing was sent. Check the host and port (iCloud: smtp.mail.me.com, 587 or 465); if they are right, something on the network may be answering in the server's place: try another network."},
	{KindUnknown, "Something unexpected went wrong",
		"The details below say what the system reported. Check your connection and settings, then try again."},
}

// Hints returns the advice for every Kind, in a fixed order. The README's
// troubleshooting section is generated from it.
func Hints() []Hint { return append([]Hint(nil), hints...) }

// HintFor returns the advice for k; an unknown k gets KindUnknown's.
func HintFor(k Kind) Hint {
	for _, h := range hints {
		if h.Kind == k {
			return h
		}
	}
	return HintFor(KindUnknown)
}
