package mailer

import (
	"crypto/x509"
	"io"
	"os"
	"runtime"
	"sync"
)

// bundleFiles are the files of trusted authorities Linux distributions
// keep, in the order Go's crypto/x509 looks for them
// (src/crypto/x509/root_linux.go).
var bundleFiles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian/Ubuntu/Gentoo etc.
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora/RHEL 6
	"/etc/ssl/ca-bundle.pem",                            // OpenSUSE
	"/etc/pki/tls/cacert.pem",                           // OpenELEC
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS/RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine Linux
}

// maxBundle bounds the bundle read (Debian's is about 220 kB).
const maxBundle = 8 << 20

// trustedRoots is the pool of authorities every TLS connection of Postcard
// verifies the server's certificate against (nil: Go's system pool).
var trustedRoots = sync.OnceValue(func() *x509.CertPool {
	return loadRoots(runtime.GOOS, os.Getenv, bundleFiles)
})

// TrustedRoots returns the authorities Postcard trusts for a server's
// certificate, for a tls.Config's RootCAs: nil, meaning Go's system pool,
// except on Linux with a bundle file. The pool is shared: do not change it.
//
// On Linux Go reads the distribution's bundle file and then, again, every
// file in /etc/ssl/certs, which on Debian holds the same authorities one by
// one: 8.5 ms where the bundle alone takes 2 ms, and with the garbage it
// leaves, `postcard send` to a server on loopback took 23 ms, not 16 (the
// system's bundle with a test CA added, bind-mounted in a private mount
// namespace; curl with that bundle: 26 ms).
// Postcard reads the bundle alone. An authority copied into the folder by
// hand, not added with update-ca-certificates (or update-ca-trust), is
// then not trusted; SSL_CERT_DIR=/etc/ssl/certs brings it back. With
// SSL_CERT_FILE or SSL_CERT_DIR set, or no bundle, Go's own loading is
// used unchanged, so the variables mean what they mean in every Go
// program.
func TrustedRoots() *x509.CertPool { return trustedRoots() }

// loadRoots is TrustedRoots' pool for the system goos with the environment
// getenv: a pool of the first of files that can be read, or nil to leave
// the choice to Go.
func loadRoots(goos string, getenv func(string) string, files []string) *x509.CertPool {
	if goos != "linux" || getenv("SSL_CERT_FILE") != "" || getenv("SSL_CERT_DIR") != "" {
		return nil
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(f, maxBundle+1))
		f.Close()
		// Go stops at the first file it can read; so does this, and
		// whatever is wrong with it is left to Go to decide.
		if err != nil || len(data) > maxBundle {
			return nil
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil
		}
		return pool
	}
	return nil
}

var warmRootsOnce sync.Once

// WarmRoots starts loading the trusted authorities (TrustedRoots, or Go's
// system pool) on a goroutine of its own, once per process, and returns at
// once, so that the TLS handshake, which needs them when the server's
// certificate arrives, finds them loaded: the loading runs while the
// keychain is read and the connection is made.
func WarmRoots() {
	warmRootsOnce.Do(func() {
		go func() {
			if TrustedRoots() == nil {
				x509.SystemCertPool()
			}
		}()
	})
}
