package mailer_test

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/postcard-mail/postcard/mailer"
)

// Building and encoding a message with a 10 MiB attachment; make bench
// runs these with -benchmem and puts them in BENCHMARKS.md. MB/s counts the
// attachment's raw bytes.

const benchAttachmentSize = 10 << 20

// benchMessage returns an account and a message with a 10 MiB attachment of
// random bytes (a fixed seed, so every run encodes the same file).
func benchMessage(b *testing.B) (mailer.Account, mailer.Message) {
	b.Helper()
	buf := make([]byte, benchAttachmentSize)
	_, _ = rand.NewChaCha8([32]byte{'p', 'o', 's', 't', 'c', 'a', 'r', 'd'}).Read(buf)
	path := filepath.Join(b.TempDir(), "random-10MiB.bin")
	if err := os.WriteFile(path, buf, 0o600); err != nil {
		b.Fatal(err)
	}
	a := mailer.DefaultAccount()
	a.Username = "ann@icloud.com"
	return a, mailer.Message{
		To:          []string{"bob@example.org"},
		Subject:     "A 10 MiB attachment",
		Body:        "Hello,\n\nthe file is attached.\n",
		Attachments: []string{path},
	}
}

func BenchmarkPrepare_10MiBAttachment(b *testing.B) {
	a, m := benchMessage(b)
	// No SetBytes: Prepare only looks at the file's size; WriteTo reads it.
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mailer.Prepare(a, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteTo_10MiBAttachment(b *testing.B) {
	a, m := benchMessage(b)
	p, err := mailer.Prepare(a, m)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchAttachmentSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(p.Size), "msg-bytes")
}
