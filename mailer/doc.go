// Package mailer sends mail through iCloud's SMTP server and says, in one
// error type, what went wrong; it never imports Fyne, so the window and the
// command line share it.
//
// It owns the account settings (Account, with iCloud's host, ports and the
// two kinds of TLS), checking and encoding a message before any connection
// is made (Message, Prepare, with iCloud's limits), sending it and checking
// a login over SMTP (Client, stage by stage), the app-specific password in
// the OS keychain (Keychain, a wrapper of go-keyring with a timeout on every
// call), and Error: every failure, whether from the network, the server,
// the message or the keychain, comes back as one *Error with the Stage it
// happened at, a Kind from a small fixed set that callers branch on, and
// the Hint shown to the user.
//
// # Why an SMTP client of its own, and go-mail's message layout
//
// The session is written on a small SMTP client of this package's own
// (smtpconn.go: commands, replies, STARTTLS, AUTH PLAIN and LOGIN) rather
// than go-mail's Client or its low-level smtp package, because neither can
// give what this package promises:
//
//   - Their replies are read without a limit: a server, or anything on the
//     path before TLS (the greeting and the first EHLO come in the clear on
//     587), that sends an endless line or endless continuation lines grows
//     the process until it is killed. Here a line may be 4 KiB and a reply
//     64 KiB; past that the session ends with KindProtocol.
//   - go-mail's context covers only the dial. After connecting, one timeout
//     is the deadline for the whole MAIL FROM to DATA exchange, and
//     cancelling does not stop an upload in progress. Here each stage has
//     its own deadline, the upload one that grows with the message's size,
//     the session one more that grows with its size and recipients, and
//     cancelling closes the connection, which stops any stage, the upload
//     included.
//   - Its TLS policies include fallbacks to plain text (TLSOpportunistic,
//     and SSL with fallback, go to port 25). Here there is no plaintext path
//     at all: STARTTLS is required on 587, TLS from the first byte on 465,
//     and the login is refused on a connection that is not encrypted.
//   - Its errors say "dial failed" for a DNS, TCP, TLS or login failure
//     alike and name rejected recipients only in their text. Here the
//     session knows the stage of every failure, which the diagnosis needs as
//     much as the reply code (see Classify), reports each stage as it ends
//     (Client.OnStage), reads the password while it connects, and knows when
//     the final dot left, which separates "not sent" from "may have been
//     sent".
//
// The message itself is laid out by go-mail (Msg.WriteTo: headers with
// RFC 2047 encoding, so CR or LF in a subject or a name cannot inject a
// header, MIME parts, boundaries, file names), but go-mail encodes each
// attachment whole in memory, some 50 MB of allocations for a 10 MiB file,
// and silently skips a file that does not exist. So Prepare checks every
// file itself and has go-mail write the message once with a small marker
// in each file's place; the message is then streamed with each file's
// base64 written into its marker's place, read in fixed-size pieces, and
// its exact size is known before the upload starts. DATA goes through this
// package's own dot-stuffing writer with a 64 KiB buffer, not
// net/textproto's DotWriter, which goes byte by byte.
package mailer
