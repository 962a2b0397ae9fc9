//go:build !linux

package smtptest

import (
	"errors"
	"fmt"
)

func startFullQueue() (*FullQueue, error) {
	return nil, fmt.Errorf("smtptest: full accept queue needs Linux: %w", errors.ErrUnsupported)
}
