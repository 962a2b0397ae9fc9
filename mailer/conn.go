package mailer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"time"

	"github.com/postcard-mail/postcard/mailer/internal/netfail"
)

// ClientTLS is the TLS configuration of every connection Postcard makes
// (SMTP, IMAP, CardDAV): TLS 1.2 or newer, and the server's certificate
// verified for host against roots, or against TrustedRoots when roots is
// nil. An empty host leaves the name to the caller (net/http takes it from
// the URL). There is no setting to skip the verification.
func ClientTLS(host string, roots *x509.CertPool) *tls.Config {
	if roots == nil {
		roots = TrustedRoots()
	}
	return &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, RootCAs: roots}
}

// connect resolves host and connects to port, the two within timeout,
// reporting the resolve and connect stages through begin and ok. Its error
// is the current stage's, for the session to diagnose.
func connect(ctx context.Context, host string, port int, timeout time.Duration, begin func(Stage), ok func(string)) (net.Conn, error) {
	begin(StageResolve)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ips, err := netfail.Resolve(dctx, host)
	if err != nil {
		return nil, err
	}
	ok(strings.Join(ips, ", "))

	begin(StageConnect)
	raw, err := netfail.Dial(dctx, ips, port)
	if err != nil {
		return nil, err
	}
	return raw, nil
}
