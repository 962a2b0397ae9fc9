package ui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/postcard-mail/postcard/mailer"
	"github.com/postcard-mail/postcard/mailer/store"
)

// listRow is one row of a message list: a line in bold (the subject), a
// line under it (who, when, state) and a small icon.
type listRow struct {
	icon        *widget.Icon
	title, info *widget.Label
}

func newListRow() fyne.CanvasObject {
	title := widget.NewLabel("")
	title.TextStyle.Bold = true
	title.Truncation = fyne.TextTruncateEllipsis
	info := widget.NewLabel("")
	info.Truncation = fyne.TextTruncateEllipsis
	icon := widget.NewIcon(theme.MailComposeIcon())
	// The two lines belong together: no gap between them beyond the
	// labels' own padding.
	lines := container.New(layout.NewCustomPaddedVBoxLayout(-theme.Padding()), title, info)
	return container.NewBorder(nil, nil, icon, nil, lines)
}

func rowOf(o fyne.CanvasObject) listRow {
	c := o.(*fyne.Container)
	var r listRow
	for _, obj := range c.Objects {
		switch v := obj.(type) {
		case *widget.Icon:
			r.icon = v
		case *fyne.Container:
			r.title = v.Objects[0].(*widget.Label)
			r.info = v.Objects[1].(*widget.Label)
		}
	}
	return r
}

func orNoSubject(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(no subject)"
	}
	return s
}

// outboxPane lists the Outbox: each message's state, next try and last
// hint, with the fixes and actions for the one selected.
type outboxPane struct {
	w       *window
	list    *widget.List
	empty   *widget.Label
	status  *widget.Label
	view    *entryView
	entries []store.Entry
	sel     string          // the selected message's id
	sending map[string]bool // the Message-IDs this window is sending
	content fyne.CanvasObject
}

func newOutboxPane(w *window) *outboxPane {
	p := &outboxPane{w: w}
	p.list = widget.NewList(func() int { return len(p.entries) }, newListRow, func(i widget.ListItemID, o fyne.CanvasObject) {
		e := p.entries[i]
		r := rowOf(o)
		r.title.SetText(orNoSubject(e.Subject))
		r.info.SetText("To " + strings.Join(e.Recipients, ", ") + " · " + p.stateText(e))
		switch {
		case p.sending[e.MessageID] || e.State == store.StateSending:
			r.icon.SetResource(theme.UploadIcon())
		case e.State == store.StateWaiting:
			r.icon.SetResource(theme.HistoryIcon())
		case e.State == store.StateUnconfirmed:
			r.icon.SetResource(theme.NewWarningThemedResource(theme.QuestionIcon()))
		default:
			r.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		}
	})
	p.list.OnSelected = func(i widget.ListItemID) {
		if i < len(p.entries) {
			p.sel = p.entries[i].ID
			p.showSelected()
		}
	}
	p.empty = widget.NewLabel("The Outbox is empty: every message you sent has gone.")
	p.empty.Wrapping = fyne.TextWrapWord
	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	p.status.Hide()
	p.view = newEntryView(w)
	p.view.box.Hide()
	help := widget.NewLabel("Messages wait here until they are sent. One that failed because the network was away is tried again by itself; one that needs you shows why and how to fix it.")
	help.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(heading("Outbox"), help, p.empty)
	p.content = container.NewPadded(container.NewBorder(top, container.NewVBox(p.status, p.view.box), nil, nil, p.list))
	return p
}

func (p *outboxPane) stateText(e store.Entry) string {
	switch {
	case p.sending[e.MessageID] || e.State == store.StateSending:
		return "sending…"
	case e.State == store.StateWaiting && e.Last == nil:
		at := e.NextTry
		if e.HoldUntil.After(at) {
			at = e.HoldUntil
		}
		return "waiting to be sent at " + clock(at)
	case e.State == store.StateWaiting:
		return fmt.Sprintf("waiting: %s; next try %s (%d tried)", lowerFirst(mailer.HintFor(e.Last.Kind).Title), clock(e.NextTry), e.Attempts)
	case e.State == store.StateNeedsAttention:
		return "needs attention: " + lowerFirst(mailer.HintFor(e.Last.Kind).Title)
	case e.State == store.StateUnconfirmed:
		return "unconfirmed: may have been delivered"
	}
	return string(e.State)
}

// show lists entries, keeping the selection.
func (p *outboxPane) show(entries []store.Entry) {
	p.entries = entries
	setVisible(p.empty, len(entries) == 0)
	p.list.Refresh()
	p.showSelected()
}

// sendingChanged shows which messages this window is sending now.
func (p *outboxPane) sendingChanged(ids map[string]bool) {
	p.sending = ids
	p.list.Refresh()
}

// showSelected shows the fixes and actions of the selected message.
func (p *outboxPane) showSelected() {
	for _, e := range p.entries {
		if e.ID == p.sel {
			if e.State == store.StateSending || p.sending[e.MessageID] {
				p.view.box.Hide()
				return
			}
			if e.Last == nil {
				e.Last = &store.Failure{Kind: mailer.KindUnknown, Detail: "waiting to be sent at " + clock(e.NextTry)}
			}
			p.view.show(e)
			return
		}
	}
	p.sel = ""
	p.view.box.Hide()
}

// sentPane lists what was sent: date, recipients, subject, size; a message
// opens in the system's mail program or becomes a new draft.
type sentPane struct {
	w         *window
	list      *widget.List
	empty     *widget.Label
	status    *widget.Label
	open      *widget.Button
	useAsNew  *widget.Button
	retryCopy *widget.Button
	copyNote  *widget.Label
	items     []store.SentItem
	sel       int
	content   fyne.CanvasObject
}

func newSentPane(w *window) *sentPane {
	p := &sentPane{w: w, sel: -1}
	p.list = widget.NewList(func() int { return len(p.items) }, newListRow, func(i widget.ListItemID, o fyne.CanvasObject) {
		it := p.items[i]
		r := rowOf(o)
		r.icon.SetResource(theme.NewSuccessThemedResource(theme.MailSendIcon()))
		r.title.SetText(orNoSubject(it.Subject))
		// The recipients go last: a long list is what gets cut.
		r.info.SetText(fmt.Sprintf("%s · %s%s · to %s", it.Date.Local().Format("Jan 2 2006, 15:04"), mailer.FormatSize(it.Size),
			copyText(it.Copy), strings.Join(it.Recipients(), ", ")))
		if it.Copy != nil && it.Copy.Status == store.CopyFailed {
			r.icon.SetResource(theme.NewWarningThemedResource(theme.MailSendIcon()))
		}
	})
	p.list.OnSelected = func(i widget.ListItemID) {
		p.sel = i
		p.open.Enable()
		p.useAsNew.Enable()
		p.showCopy()
	}
	p.open = widget.NewButtonWithIcon("Open in mail program", theme.FileIcon(), p.openSelected)
	p.useAsNew = widget.NewButtonWithIcon("Use as new", theme.DocumentCreateIcon(), p.useSelected)
	p.retryCopy = widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), p.retrySelected)
	p.retryCopy.Hide()
	p.copyNote = widget.NewLabel("")
	p.copyNote.Wrapping = fyne.TextWrapWord
	p.copyNote.Hide()
	p.open.Disable()
	p.useAsNew.Disable()
	p.empty = widget.NewLabel("Nothing sent yet.")
	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	p.status.Hide()
	where := widget.NewLabel("Each message sent is kept as a standard .eml file, Bcc recipients included, in " +
		filepath.Join(w.d.Store.Dir(), "sent") + " (a Maildir: any mail program opens it).")
	where.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(heading("Sent"), where, p.empty)
	bottom := container.NewVBox(p.status, p.copyNote, container.NewHBox(p.open, p.useAsNew, p.retryCopy))
	p.content = container.NewPadded(container.NewBorder(top, bottom, nil, nil, p.list))
	return p
}

// copyText says where the copy in the server's Sent folder stands, for a
// row of the Sent list.
func copyText(c *store.Copy) string {
	if c == nil {
		return ""
	}
	switch c.Status {
	case store.CopyFiled, store.CopyAlreadyThere:
		return " · in the Sent folder on the server"
	case store.CopyPending:
		return " · copy to the Sent folder on the server in a moment"
	case store.CopyFailed:
		return " · copy not saved: " + lowerFirst(mailer.HintFor(c.Last.Kind).Title)
	}
	return ""
}

func (p *sentPane) show(items []store.SentItem) {
	p.items = items
	setVisible(p.empty, len(items) == 0)
	if p.sel >= len(items) {
		p.sel = -1
		p.list.UnselectAll()
		p.open.Disable()
		p.useAsNew.Disable()
	}
	p.list.Refresh()
	p.showCopy()
}

// showCopy shows, for the message selected, why its copy was not saved and
// Try again.
func (p *sentPane) showCopy() {
	if p.sel < 0 || p.sel >= len(p.items) || p.items[p.sel].Copy == nil || p.items[p.sel].Copy.Status != store.CopyFailed {
		p.copyNote.Hide()
		p.retryCopy.Hide()
		return
	}
	c := p.items[p.sel].Copy
	e := c.Last.Error()
	e.Protocol, e.AfterSend = mailer.ProtocolIMAP, true // its hint says the message itself was sent
	text := e.Hint()
	if !c.NextTry.IsZero() {
		text += " Postcard tries again at " + clock(c.NextTry) + "."
	}
	say(p.copyNote, widget.WarningImportance, text)
	p.retryCopy.Show()
}

// retrySelected files the selected message's copy now.
func (p *sentPane) retrySelected() {
	if p.sel < 0 || p.sel >= len(p.items) {
		return
	}
	id, r := p.items[p.sel].ID, p.w.runner
	p.retryCopy.Disable()
	go func() {
		_, err := r.CopyNow(context.Background(), id)
		p.w.do(func() {
			p.retryCopy.Enable()
			if err != nil {
				say(p.status, widget.WarningImportance, "The copy was not saved: "+sentence(err.Error()))
			} else {
				say(p.status, widget.MediumImportance, "")
			}
		})
	}()
}

// openSelected opens a copy of the message with a .eml name, so the
// desktop picks the mail program for it.
func (p *sentPane) openSelected() {
	if p.sel < 0 || p.sel >= len(p.items) {
		return
	}
	it := p.items[p.sel]
	open := p.w.d.OpenURL
	go func() {
		path, err := emlCopy(it)
		if err == nil {
			err = open(&url.URL{Scheme: "file", Path: path})
		}
		p.w.do(func() {
			if err != nil {
				say(p.status, widget.WarningImportance, "It could not be opened: "+err.Error()+". The file is "+it.Path+".")
			} else {
				say(p.status, widget.MediumImportance, "")
			}
		})
	}()
}

// emlCopy copies a Sent message to the cache folder under a .eml name.
func emlCopy(it store.SentItem) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir = filepath.Join(dir, "postcard", "open")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	data, err := os.ReadFile(it.Path)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, it.ID+".eml")
	return path, mailer.WriteFileAtomic(path, data)
}

func (p *sentPane) useSelected() {
	if p.sel < 0 || p.sel >= len(p.items) {
		return
	}
	id := p.items[p.sel].ID
	st := p.w.d.Store
	go func() {
		h, d, err := st.UseAsNew(id)
		p.w.do(func() {
			if err != nil {
				say(p.status, widget.DangerImportance, "It could not be used as a new message: "+err.Error())
				return
			}
			p.w.compose.edit(h, d)
			p.w.showCompose()
			say(p.w.compose.note, widget.MediumImportance, "A copy of the message sent, to change and send as a new one.")
			p.w.outboxChanged()
		})
	}()
}

// draftsPane lists the drafts; one opens in the compose pane.
type draftsPane struct {
	w       *window
	list    *widget.List
	empty   *widget.Label
	status  *widget.Label
	open    *widget.Button
	remove  *widget.Button
	drafts  []Draft
	sel     int
	content fyne.CanvasObject
}

func newDraftsPane(w *window) *draftsPane {
	p := &draftsPane{w: w, sel: -1}
	p.list = widget.NewList(func() int { return len(p.drafts) }, newListRow, func(i widget.ListItemID, o fyne.CanvasObject) {
		d := p.drafts[i]
		r := rowOf(o)
		r.icon.SetResource(theme.DocumentIcon())
		r.title.SetText(orNoSubject(d.Subject))
		who := strings.Join(d.Recipients(), ", ")
		if who == "" {
			who = "no recipients yet"
		}
		info := fmt.Sprintf("saved %s · to %s", clock(d.Saved), who)
		if p.w.compose.saver != nil && p.w.compose.saver.h.ID == d.ID {
			info = "open in Compose · " + info
		}
		r.info.SetText(info)
	})
	p.list.OnSelected = func(i widget.ListItemID) {
		p.sel = i
		p.open.Enable()
		p.remove.Enable()
	}
	p.open = widget.NewButtonWithIcon("Open", theme.DocumentCreateIcon(), p.openSelected)
	p.remove = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), p.removeSelected)
	p.open.Disable()
	p.remove.Disable()
	p.empty = widget.NewLabel("No drafts. A message you start is saved here as you write it.")
	p.empty.Wrapping = fyne.TextWrapWord
	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	p.status.Hide()
	top := container.NewVBox(heading("Drafts"), p.empty)
	bottom := container.NewVBox(p.status, container.NewHBox(p.open, p.remove))
	p.content = container.NewPadded(container.NewBorder(top, bottom, nil, nil, p.list))
	return p
}

func (p *draftsPane) show(drafts []Draft) {
	p.drafts = drafts
	setVisible(p.empty, len(drafts) == 0)
	if p.sel >= len(drafts) {
		p.sel = -1
		p.list.UnselectAll()
		p.open.Disable()
		p.remove.Disable()
	}
	p.list.Refresh()
}

func (p *draftsPane) selected() (Draft, bool) {
	if p.sel < 0 || p.sel >= len(p.drafts) {
		return Draft{}, false
	}
	return p.drafts[p.sel], true
}

func (p *draftsPane) openSelected() {
	d, ok := p.selected()
	if !ok {
		return
	}
	if s := p.w.compose.saver; s != nil && s.h.ID == d.ID {
		p.w.showCompose()
		return
	}
	st := p.w.d.Store
	go func() {
		h, d, err := st.EditDraft(d.ID)
		p.w.do(func() {
			switch {
			case errors.Is(err, store.ErrBusy):
				say(p.status, widget.WarningImportance, "This draft is open in another Postcard window.")
				return
			case err != nil:
				say(p.status, widget.DangerImportance, "It could not be opened: "+err.Error())
				p.w.outboxChanged()
				return
			}
			say(p.status, widget.MediumImportance, "")
			p.w.compose.edit(h, d)
			p.w.showCompose()
			p.w.outboxChanged()
		})
	}()
}

func (p *draftsPane) removeSelected() {
	d, ok := p.selected()
	if !ok {
		return
	}
	if s := p.w.compose.saver; s != nil && s.h.ID == d.ID {
		say(p.status, widget.WarningImportance, "This draft is open in Compose: empty it there, or open another one first.")
		return
	}
	st := p.w.d.Store
	go func() {
		h, _, err := st.EditDraft(d.ID)
		if err == nil {
			err = st.DeleteDraft(h)
			h.Release()
		}
		p.w.do(func() {
			if errors.Is(err, store.ErrBusy) {
				say(p.status, widget.WarningImportance, "This draft is open in another Postcard window.")
			} else if err != nil {
				say(p.status, widget.DangerImportance, "It could not be deleted: "+err.Error())
			} else {
				say(p.status, widget.MediumImportance, "")
			}
			p.w.outboxChanged()
		})
	}()
}
