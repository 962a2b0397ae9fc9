// Package netfail reaches a mail server and tells what a network or TLS
// error is, for the mailer's protocols (SMTP, IMAP, CardDAV) alike.
package netfail

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
)

// IsTimeout reports whether err is a deadline that passed.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
}

// IsConnLost reports whether err is the connection closed or reset under
// the reader or writer.
func IsConnLost(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

// CertReason says in a few words why a certificate was not trusted.
func CertReason(err error) string {
	var (
		uae x509.UnknownAuthorityError
		he  x509.HostnameError
		cie x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &he):
		return "it is for another host (" + he.Error() + ")"
	case errors.As(err, &uae):
		return "it is signed by an unknown authority"
	case errors.As(err, &cie):
		return cie.Error()
	}
	return err.Error()
}

// Resolve returns the addresses of host, or host itself when it is an IP
// address. A name with no addresses is a not-found DNS error.
func Resolve(ctx context.Context, host string) ([]string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []string{ip.String()}, nil
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	ips := make([]string, 0, len(addrs))
	for _, ad := range addrs {
		ips = append(ips, ad.IP.String())
	}
	if len(ips) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return ips, nil
}

// Dial connects to port on the first of ips that answers, within ctx.
// The error is the last address's.
func Dial(ctx context.Context, ips []string, port int) (net.Conn, error) {
	var (
		conn net.Conn
		err  error
		d    net.Dialer
	)
	for _, ip := range ips {
		conn, err = d.DialContext(ctx, "tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	return conn, err
}
