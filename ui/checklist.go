package ui

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
)

// checklist shows the stages of a login, each ticked or crossed, with the
// hint under the one that failed.
type checklist struct {
	box  *fyne.Container
	rows []*checkRow
}

// checkRow is one line of the checklist; state is what its icon shows.
type checkRow struct {
	stages []mailer.Stage // the session stages this row stands for
	tickAt mailer.Stage   // the one that ticks it, when not any of them
	name   string
	state  rowState
	icon   *widget.Icon
	label  *widget.Label
	hint   *widget.Label
}

type rowState int

const (
	rowPending rowState = iota
	rowOK
	rowFailed
	rowNotTried
)

func newChecklist() *checklist {
	return newChecklistOf("Connection test",
		[]mailer.Stage{mailer.StageResolve},
		// The greeting belongs to connecting, as the user sees it.
		[]mailer.Stage{mailer.StageConnect, mailer.StageGreeting},
		[]mailer.Stage{mailer.StageTLS},
		[]mailer.Stage{mailer.StageLogin})
}

// newIMAPChecklist is the checklist of the copy in the Sent folder: the
// IMAP login as one row, then the folder.
func newIMAPChecklist() *checklist {
	c := newChecklistOf("Copy in the Sent folder",
		[]mailer.Stage{mailer.StageResolve, mailer.StageConnect, mailer.StageGreeting, mailer.StageTLS, mailer.StageLogin, mailer.StageKeychain},
		[]mailer.Stage{mailer.StageFolder})
	c.rows[0].tickAt = mailer.StageLogin
	return c
}

func newChecklistOf(title string, rows ...[]mailer.Stage) *checklist {
	c := &checklist{box: container.NewVBox(heading(title))}
	for _, stages := range rows {
		r := &checkRow{stages: stages}
		r.icon = widget.NewIcon(theme.RadioButtonIcon())
		r.label = widget.NewLabel("")
		r.hint = widget.NewLabel("")
		r.hint.Wrapping = fyne.TextWrapWord
		r.hint.Hide()
		c.rows = append(c.rows, r)
		// The icon sits beside the stage's name, not halfway down its hint.
		c.box.Add(container.NewBorder(nil, nil, container.NewVBox(container.NewPadded(r.icon)), nil, container.NewVBox(r.label, r.hint)))
	}
	c.box.Hide()
	return c
}

// reset shows every stage as pending for a check of a.
func (c *checklist) reset(a mailer.Account) {
	c.resetNames(
		"Look up "+a.Host,
		fmt.Sprintf("Connect to port %d", a.Port),
		"Secure the connection ("+a.Security.Label()+")",
		"Sign in as "+a.Username)
}

// resetIMAP shows the rows of a check of the IMAP side im as pending.
func (c *checklist) resetIMAP(im mailer.IMAPAccount) {
	c.resetNames(fmt.Sprintf("Sign in to %s (%s)", im.Addr(), im.Security.Label()), "Find the Sent folder")
}

func (c *checklist) resetNames(names ...string) {
	for i, r := range c.rows {
		r.name = names[i]
		r.label.SetText(r.name)
		r.hint.Hide()
		r.set(rowPending)
	}
	c.box.Show()
}

func (c *checklist) row(st mailer.Stage) *checkRow {
	for _, r := range c.rows {
		for _, s := range r.stages {
			if s == st {
				return r
			}
		}
	}
	return nil
}

func (c *checklist) hasRow(st mailer.Stage) bool { return c.row(st) != nil }

func (c *checklist) rowName(st mailer.Stage) string {
	if r := c.row(st); r != nil {
		return r.name
	}
	return string(st)
}

// mark ticks the row of a stage that went well; failures wait for finish,
// which has the whole error.
func (c *checklist) mark(res mailer.StageResult) {
	r := c.row(res.Stage)
	if r == nil || !res.OK || r.state == rowFailed || (r.tickAt != "" && r.tickAt != res.Stage) {
		return
	}
	r.set(rowOK)
	// The address, the TLS version: worth seeing. The greeting and "logged
	// in" are not.
	if res.Detail != "" && res.Stage != mailer.StageGreeting && res.Stage != mailer.StageLogin && len(r.stages) == 1 {
		r.label.SetText(r.name + ": " + res.Detail)
	}
}

// finish ticks the stages a check went through, crosses the one that
// failed with the hint under it, and marks the rows after it as not tried.
func (c *checklist) finish(stages []mailer.StageResult, err error) {
	for _, st := range stages {
		c.mark(st)
	}
	var e *mailer.Error
	failedRow := (*checkRow)(nil)
	if errors.As(err, &e) {
		failedRow = c.row(e.Stage)
	}
	after := false
	for _, r := range c.rows {
		switch {
		case after:
			r.set(rowNotTried)
		case r == failedRow:
			r.set(rowFailed)
			r.hint.SetText(stageHint(e))
			r.hint.Show()
			after = true
		case r.state == rowPending && err == nil:
			// Check returned no error: every stage passed.
			r.set(rowOK)
		case r.state == rowPending:
			r.set(rowNotTried)
		}
	}
}

// stageHint is what went wrong at a stage and what to do about it.
func stageHint(e *mailer.Error) string {
	switch {
	case e.Detail != "":
		return sentence(e.Detail) + " " + e.Hint()
	case e.Reply != nil:
		return "The server said: " + e.Reply.String() + ". " + e.Hint()
	}
	return e.Hint()
}

func (r *checkRow) set(s rowState) {
	r.state = s
	switch s {
	case rowOK:
		r.icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		r.label.Importance = widget.MediumImportance
	case rowFailed:
		r.icon.SetResource(theme.NewErrorThemedResource(theme.CancelIcon()))
		r.label.Importance = widget.DangerImportance
	case rowNotTried:
		r.icon.SetResource(theme.NewDisabledResource(theme.RadioButtonIcon()))
		r.label.Importance = widget.MediumImportance
		r.label.Text = r.name + " (not tried)"
	default:
		r.icon.SetResource(theme.RadioButtonIcon())
		r.label.Importance = widget.MediumImportance
	}
	r.label.Refresh()
}
