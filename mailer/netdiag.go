package mailer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/postcard-mail/postcard/mailer/internal/netfail"
)

// NetFailure says where a connection failed, for ClassifyNet.
type NetFailure struct {
	Stage Stage
	Host  string
	Port  int
	// StartTLS is whether the account expects STARTTLS, so that a server
	// silent from the start is told apart from a slow one.
	StartTLS bool
	// BytesRead is how much the server had sent before the failure.
	BytesRead      int64
	ConnectTimeout time.Duration
	ReplyTimeout   time.Duration
}

// ClassifyNet says what a failure of the network or of TLS means: a
// failure of the connection, not a server's reply. It knows the same cases
// for every protocol (SMTP's diagnose in send.go, IMAP's in imap.go,
// CardDAV's in contacts); ok is false for an error it does not recognise.
func ClassifyNet(err error, f NetFailure) (kind Kind, detail string, ok bool) {
	var (
		dnsE *net.DNSError
		rhe  tls.RecordHeaderError
		cve  *tls.CertificateVerificationError
		uae  x509.UnknownAuthorityError
		he   x509.HostnameError
		cie  x509.CertificateInvalidError
		ne   net.Error
	)
	switch {
	case errors.Is(err, errNoSTARTTLS):
		return KindTLSUnavailable, err.Error(), true
	case errors.As(err, &dnsE):
		if dnsE.IsTimeout {
			return KindDNS, fmt.Sprintf("looking up %s timed out", dnsE.Name), true
		}
		return KindDNS, fmt.Sprintf("host %q not found", dnsE.Name), true
	case errors.As(err, &rhe):
		// Plain text where TLS was expected: a STARTTLS port spoken to
		// with TLS from the first byte.
		return KindTLSMode, fmt.Sprintf("the server on port %d did not answer in TLS; it expects STARTTLS", f.Port), true
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &he), errors.As(err, &cie):
		return KindTLSCertificate, "the server's certificate is not trusted: " + netfail.CertReason(err), true
	case f.Stage == StageTLS && isTLSVersionError(err):
		return KindTLSVersion, "the server offers only TLS 1.0 or 1.1, too old to be safe; Postcard needs TLS 1.2 or later", true
	case f.Stage == StageConnect && errors.Is(err, syscall.ECONNREFUSED):
		return KindConnectRefused, fmt.Sprintf("nothing accepts connections on %s port %d", f.Host, f.Port), true
	case f.Stage == StageConnect && (errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH)):
		return KindConnectRefused, fmt.Sprintf("%s is unreachable from this network", f.Host), true
	case f.Stage == StageConnect && (errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)):
		return KindConnectTimeout, fmt.Sprintf("no answer from %s port %d within %s", f.Host, f.Port, f.ConnectTimeout), true
	case f.Stage == StageGreeting && f.StartTLS && f.BytesRead == 0 && netfail.IsTimeout(err):
		// Connected, and not a byte in reply: the server is waiting for a
		// TLS handshake, as on an implicit-TLS port.
		return KindTLSMode, fmt.Sprintf("connected, but the server on port %d sent no greeting; it expects SSL/TLS from the start", f.Port), true
	case netfail.IsTimeout(err):
		return KindTimeout, fmt.Sprintf("no answer from the server within %s", f.ReplyTimeout), true
	case netfail.IsConnLost(err):
		return KindConnectionLost, "the server closed the connection", true
	}
	return KindUnknown, "", false
}
