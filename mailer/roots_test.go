package mailer_test

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/smtptest"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// poolOf is the pool of the certificates in file.
func poolOf(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		t.Fatalf("no certificate in %s", file)
	}
	return pool
}

// verifies reports whether pool trusts a server certificate of ca.
func verifies(t *testing.T, pool *x509.CertPool, ca *smtptest.CA) bool {
	t.Helper()
	crt, err := ca.ServerCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(crt.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1"})
	return err == nil
}

func TestLoadRoots(t *testing.T) {
	dir := t.TempDir()
	caFile, err := testCA.WriteFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	other, err := smtptest.NewCA("Another CA")
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	t.Run("the first bundle there is, and only it", func(t *testing.T) {
		pool := mailer.LoadRoots("linux", env(nil), []string{missing, caFile})
		if pool == nil {
			t.Fatal("no pool from a readable bundle")
		}
		if !pool.Equal(poolOf(t, caFile)) {
			t.Error("the pool is not the bundle's certificates, exactly")
		}
		if !verifies(t, pool, testCA) {
			t.Error("a certificate of the bundle's authority is not trusted")
		}
		if verifies(t, pool, other) {
			t.Error("a certificate of an authority not in the bundle is trusted")
		}
	})

	// In every other case Go decides (nil): the user's SSL_CERT_FILE or
	// SSL_CERT_DIR, no bundle, or one that is not what a bundle should be.
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.pem")
	if err := os.WriteFile(huge, testCA.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, mailer.MaxBundle+1); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		goos  string
		env   map[string]string
		files []string
	}{
		{"not Linux", "darwin", nil, []string{caFile}},
		{"SSL_CERT_FILE set", "linux", map[string]string{"SSL_CERT_FILE": caFile}, []string{caFile}},
		{"SSL_CERT_DIR set", "linux", map[string]string{"SSL_CERT_DIR": dir}, []string{caFile}},
		{"no bundle", "linux", nil, []string{missing}},
		{"a folder where the bundle should be", "linux", nil, []string{dir, caFile}},
		{"no certificate in it", "linux", nil, []string{garbage, caFile}},
		{"larger than a bundle can be", "linux", nil, []string{huge, caFile}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if pool := mailer.LoadRoots(tt.goos, env(tt.env), tt.files); pool != nil {
				t.Errorf("got a pool; want nil (Go's own loading)")
			}
		})
	}

	t.Run("the distribution's bundle", func(t *testing.T) {
		// make deps installs ca-certificates.
		found := ""
		for _, f := range mailer.BundleFiles {
			if _, err := os.Stat(f); err == nil {
				found = f
				break
			}
		}
		if found == "" {
			t.Fatalf("none of %q exists: is ca-certificates installed?", mailer.BundleFiles)
		}
		pool := mailer.LoadRoots("linux", env(nil), mailer.BundleFiles)
		if pool == nil {
			t.Fatalf("no pool although %s exists", found)
		}
		// The bundle's roots, exactly: not Go's pool, not the folder.
		if !pool.Equal(poolOf(t, found)) {
			t.Errorf("the pool is not the certificates of %s, exactly", found)
		}
		if verifies(t, pool, testCA) {
			t.Error("the test CA is trusted by the system's bundle")
		}
	})
}
