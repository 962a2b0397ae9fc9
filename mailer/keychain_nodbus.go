//go:build !unix || darwin

package mailer

// sessionBus: the keychain is not reached over D-Bus here (the security
// tool on macOS, the Credential Manager on Windows).
func sessionBus() bool { return true }
