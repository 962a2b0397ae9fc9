package ui

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// openGuard is how long taps are ignored after a folder opens: the second
// click of the double-click that opened it would otherwise tick whatever
// file is now under the pointer. Desktops' double-click intervals are
// 300 to 400 ms by default.
const openGuard = 500 * time.Millisecond

// filePicker is Postcard's own chooser of files, for where the desktop
// offers none (no portal; Windows and macOS). Fyne's file dialog picks one
// file, and its double-click takes whatever lands under the pointer; this
// one shows a folder at a time with a tick on each file chosen, keeps the
// ticks from folder to folder and attaches them all with one button.
type filePicker struct {
	done func(paths []string)
	now  func() time.Time
	// do runs a function on the UI goroutine; read lists a folder
	// (readFolder), on a goroutine of its own: a slow or hung disk never
	// stops the window.
	do      func(func())
	read    func(dir string) ([]pickerRow, error)
	reading int    // the folder reads not answered yet
	asked   int    // the number of the last read asked; older answers are dropped
	pending string // the folder asked for last, while it is read
	target  string // the folder asked for last, or shown: where Up starts
	dir     string // the folder shown; "" is the list of drives on Windows
	opened  time.Time
	rows    []pickerRow
	chosen  []string // in the order ticked
	ended   bool

	folder *widget.Label
	up     *widget.Button
	list   *pickerList
	status *widget.Label
	attach *widget.Button
	cancel *widget.Button
	dialog *dialog.CustomDialog
}

// pickerRow is one line of the folder shown.
type pickerRow struct {
	name, path string
	dir        bool
}

// showFilePicker shows a filePicker on win, in the folder start or, if
// that is "" or cannot be read, the home folder, or else the root. done
// gets the chosen paths, or nil when the user cancels. do runs a function
// on the UI goroutine, where the folders read come back.
func showFilePicker(win fyne.Window, start string, do func(func()), done func(paths []string)) *filePicker {
	p := newFilePicker(do, done)
	if start == "" {
		start, _ = os.UserHomeDir()
	}
	if start == "" {
		p.open(rootFolder(), nil)
	} else {
		p.open(start, func(err error) {
			if err != nil {
				p.open(rootFolder(), nil)
			}
		})
	}
	p.dialog = dialog.NewCustomWithoutButtons("Attach files", p.content(), win)
	p.dialog.SetButtons([]fyne.CanvasObject{p.cancel, p.attach})
	p.dialog.Show()
	size := win.Canvas().Size()
	p.dialog.Resize(fyne.NewSize(size.Width*0.9, size.Height*0.85))
	win.Canvas().Focus(p.list)
	return p
}

func newFilePicker(do func(func()), done func([]string)) *filePicker {
	p := &filePicker{done: done, now: time.Now, do: do, read: readFolder}
	p.folder = widget.NewLabel("")
	p.folder.Truncation = fyne.TextTruncateEllipsis
	p.up = widget.NewButtonWithIcon("", theme.MoveUpIcon(), p.goUp)
	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	p.cancel = widget.NewButton("Cancel", func() { p.end(nil) })
	p.attach = widget.NewButtonWithIcon("Attach", theme.MailAttachmentIcon(), func() { p.end(p.chosen) })
	p.attach.Importance = widget.HighImportance
	p.list = newPickerList(p)
	p.showCount()
	return p
}

func (p *filePicker) content() fyne.CanvasObject {
	home := widget.NewButtonWithIcon("", theme.HomeIcon(), func() {
		if dir, err := os.UserHomeDir(); err == nil {
			p.open(dir, nil)
		}
	})
	top := container.NewBorder(nil, nil, container.NewHBox(p.up, home), nil, p.folder)
	return container.NewBorder(top, p.status, nil, nil, p.list)
}

// open reads the folder dir on a goroutine of its own and shows it, unless
// another folder was asked for since; then, if not nil, gets the read's
// error. Until the answer comes the folder shown stays and the status says
// which one is being opened; if it cannot be read, the status says why.
func (p *filePicker) open(dir string, then func(error)) {
	p.reading++
	p.asked++
	n := p.asked
	p.pending, p.target = cmp.Or(dir, "the list of drives"), dir
	p.showCount()
	go func() {
		rows, err := p.read(dir)
		p.do(func() {
			p.reading--
			if n != p.asked || p.ended {
				return
			}
			p.pending = ""
			p.show(dir, rows, err)
			if then != nil {
				then(err)
			}
		})
	}()
}

// show shows the folder dir read as rows, or, if err, the reason it could
// not be read, with the folder shown before.
func (p *filePicker) show(dir string, rows []pickerRow, err error) {
	if err != nil {
		p.target = p.dir
		p.status.SetText(err.Error())
		p.status.Importance = widget.DangerImportance
		p.status.Refresh()
		return
	}
	p.dir, p.rows, p.opened = dir, rows, p.now()
	p.folder.SetText(cmp.Or(dir, "Drives"))
	if _, ok := parentFolder(dir); ok {
		p.up.Enable()
	} else {
		p.up.Disable()
	}
	p.list.UnselectAll()
	if p.dialog != nil { // before it is shown the list has no scroller yet
		p.list.ScrollToTop()
	}
	p.list.Refresh()
	p.showCount()
}

func (p *filePicker) goUp() {
	if up, ok := parentFolder(p.target); ok {
		p.open(up, nil)
	}
}

// tap opens a folder or ticks a file, by mouse or by the space bar.
func (p *filePicker) tap(id widget.ListItemID) {
	p.list.Unselect(id) // so that the next tap on it is seen
	if id < 0 || id >= len(p.rows) || p.now().Sub(p.opened) < openGuard {
		return
	}
	row := p.rows[id]
	if row.dir {
		p.open(row.path, nil)
		return
	}
	if i := slices.Index(p.chosen, row.path); i >= 0 {
		p.chosen = slices.Delete(p.chosen, i, i+1)
	} else {
		p.chosen = append(p.chosen, row.path)
	}
	p.list.RefreshItem(id)
	p.showCount()
}

// showCount says how many files are ticked, and which folder is being
// opened while it is read.
func (p *filePicker) showCount() {
	p.status.Importance = widget.MediumImportance
	var text string
	switch n := len(p.chosen); n {
	case 0:
		text = "Tick the files to attach. Ticks stay when you change folders."
		p.attach.Disable()
	case 1:
		text = "1 file ticked"
		p.attach.SetText("Attach 1 file")
		p.attach.Enable()
	default:
		text = fmt.Sprintf("%d files ticked", n)
		p.attach.SetText(fmt.Sprintf("Attach %d files", n))
		p.attach.Enable()
	}
	switch {
	case p.pending != "" && len(p.chosen) == 0:
		text = "Opening " + p.pending + "…"
	case p.pending != "":
		text = "Opening " + p.pending + "… · " + text
	}
	p.status.SetText(text)
}

// end closes the picker and hands paths to done, once.
func (p *filePicker) end(paths []string) {
	if p.ended {
		return
	}
	p.ended = true
	if p.dialog != nil {
		p.dialog.Hide()
	}
	if len(paths) == 0 {
		paths = nil
	}
	p.done(paths)
}

// key handles the keys the list does not: Return attaches, Escape
// cancels, Backspace goes up a folder.
func (p *filePicker) key(ev *fyne.KeyEvent) bool {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if len(p.chosen) > 0 {
			p.end(p.chosen)
		}
	case fyne.KeyEscape:
		p.end(nil)
	case fyne.KeyBackspace:
		p.goUp()
	default:
		return false
	}
	return true
}

// pickerList is the list of a folder's files and folders, with the
// picker's keys on top of the list's arrows and space bar.
type pickerList struct {
	widget.List
	picker *filePicker
}

func newPickerList(p *filePicker) *pickerList {
	l := &pickerList{picker: p}
	l.Length = func() int { return len(p.rows) }
	l.CreateItem = func() fyne.CanvasObject {
		name := widget.NewLabel("")
		name.Truncation = fyne.TextTruncateEllipsis
		return container.NewBorder(nil, nil, widget.NewIcon(nil), nil, name)
	}
	l.UpdateItem = func(id widget.ListItemID, o fyne.CanvasObject) {
		if id >= len(p.rows) {
			return
		}
		row := p.rows[id]
		c := o.(*fyne.Container)
		c.Objects[0].(*widget.Label).SetText(row.name)
		c.Objects[1].(*widget.Icon).SetResource(p.icon(row))
	}
	l.OnSelected = p.tap
	l.ExtendBaseWidget(l)
	return l
}

func (l *pickerList) TypedKey(ev *fyne.KeyEvent) {
	if !l.picker.key(ev) {
		l.List.TypedKey(ev)
	}
}

func (p *filePicker) icon(row pickerRow) fyne.Resource {
	switch {
	case row.dir:
		return theme.FolderIcon()
	case slices.Contains(p.chosen, row.path):
		return theme.CheckButtonCheckedIcon()
	}
	return theme.CheckButtonIcon()
}

// readFolder lists the folders and regular files in dir, folders first,
// without hidden ones; "" lists the drives on Windows.
func readFolder(dir string) ([]pickerRow, error) {
	if dir == "" {
		return drives(), nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s cannot be opened: %w", dir, unwrapPath(err))
	}
	rows := make([]pickerRow, 0, len(entries))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		row := pickerRow{name: e.Name(), path: filepath.Join(dir, e.Name()), dir: e.IsDir()}
		switch mode := e.Type(); {
		case mode&fs.ModeSymlink != 0:
			info, err := os.Stat(row.path)
			if err != nil || !(info.IsDir() || info.Mode().IsRegular()) {
				continue // broken, or a device or socket: nothing to attach
			}
			row.dir = info.IsDir()
		case !row.dir && !mode.IsRegular():
			continue
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b pickerRow) int {
		if a.dir != b.dir {
			if a.dir {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(strings.ToLower(a.name), strings.ToLower(b.name)), cmp.Compare(a.name, b.name))
	})
	return rows, nil
}

// unwrapPath drops the path from err, which the message already names.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// parentFolder is the folder above dir; above a Windows drive's root are
// the drives.
func parentFolder(dir string) (string, bool) {
	if dir == "" {
		return "", false
	}
	if up := filepath.Dir(dir); up != dir {
		return up, true
	}
	return "", runtime.GOOS == "windows"
}

// rootFolder is where to start when the home folder cannot be read.
func rootFolder() string {
	if runtime.GOOS == "windows" {
		return ""
	}
	return "/"
}

// drives lists the drives of a Windows machine; elsewhere there are none.
func drives() []pickerRow {
	if runtime.GOOS != "windows" {
		return nil
	}
	var rows []pickerRow
	for c := 'A'; c <= 'Z'; c++ {
		root := string(c) + `:\`
		if _, err := os.Stat(root); err == nil {
			rows = append(rows, pickerRow{name: root, path: root, dir: true})
		}
	}
	return rows
}
