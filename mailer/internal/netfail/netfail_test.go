package netfail

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestIsTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, readErr := c.Read(make([]byte, 1))
	for _, e := range []error{readErr, fmt.Errorf("wrapped: %w", os.ErrDeadlineExceeded), context.DeadlineExceeded} {
		if !IsTimeout(e) {
			t.Errorf("IsTimeout(%v) = false", e)
		}
	}
	for _, e := range []error{io.EOF, errors.New("timeout"), context.Canceled} {
		if IsTimeout(e) {
			t.Errorf("IsTimeout(%v) = true", e)
		}
	}
}

func TestIsConnLost(t *testing.T) {
	for _, e := range []error{io.EOF, io.ErrUnexpectedEOF, net.ErrClosed, fmt.Errorf("write: %w", syscall.EPIPE), &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}} {
		if !IsConnLost(e) {
			t.Errorf("IsConnLost(%v) = false", e)
		}
	}
	for _, e := range []error{os.ErrDeadlineExceeded, syscall.ECONNREFUSED, errors.New("EOF")} {
		if IsConnLost(e) {
			t.Errorf("IsConnLost(%v) = true", e)
		}
	}
}

func TestCertReason(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{x509.UnknownAuthorityError{}, "unknown authority"},
		{fmt.Errorf("tls: %w", x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"other.example"}}, Host: "smtp.mail.me.com"}), "another host"},
		{x509.CertificateInvalidError{Reason: x509.Expired, Detail: "current time is after"}, "expired"},
		{errors.New("something else"), "something else"},
	}
	for _, c := range cases {
		if got := CertReason(c.err); !strings.Contains(got, c.want) {
			t.Errorf("CertReason(%v) = %q, want it to contain %q", c.err, got, c.want)
		}
	}
}

func TestResolveAndDial(t *testing.T) {
	ips, err := Resolve(context.Background(), "127.0.0.1")
	if err != nil || len(ips) != 1 || ips[0] != "127.0.0.1" {
		t.Fatalf("Resolve(127.0.0.1) = %v, %v", ips, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Nothing listens on 127.0.0.2 at that port: Dial goes on to the next
	// address.
	c, err := Dial(ctx, []string{"127.0.0.2", "127.0.0.1"}, port)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	c.Close()
	ln.Close()
	if _, err := Dial(ctx, []string{"127.0.0.1"}, port); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Dial to a closed port: %v, want connection refused", err)
	}
}
