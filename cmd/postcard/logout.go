package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/postcard-mail/postcard/mailer"
)

const logoutSynopsis = "postcard logout"

func (c *command) logout(ctx context.Context, args []string) int {
	out := newOutput(c, false)
	if err := parseFlags(newFlagSet("logout"), logoutSynopsis, args); err != nil {
		return c.parseFailed(out, err)
	}
	a, dir, err := c.loadAccount()
	if err == errNoAccount {
		fmt.Fprintln(c.stdout, "No account is saved, so there is no password to remove.")
		return exitOK
	}
	if err != nil {
		return out.fail(err)
	}
	unlock, err := c.lockAccount(ctx, dir)
	if err != nil {
		return out.fail(err)
	}
	defer unlock()
	err = c.keychain.Delete(ctx, a.Username)
	switch {
	case errors.Is(err, mailer.ErrPasswordNotFound):
		fmt.Fprintf(c.stdout, "No password was stored for %s.\n", a.Username)
	case err != nil:
		return out.fail(err)
	default:
		fmt.Fprintf(c.stdout, "Removed the password for %s from the keychain.\n", a.Username)
	}
	// The settings are no secret; keeping them prefills the next login.
	fmt.Fprintf(c.stdout, "The account settings stay in %s so the next postcard login is prefilled; delete that file to forget them too.\n",
		filepath.Join(dir, mailer.AccountFile))
	return exitOK
}
