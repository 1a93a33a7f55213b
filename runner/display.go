package runner

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/labs-dev/labs/content"
)

// Display shows long work as timed lines on stderr:
//
//	[  4.2s] Preparing nodes
//	[ 31.0s] ✓ cluster labs is ready
type Display struct {
	mu          sync.Mutex
	w           io.Writer
	style       content.Style
	interactive bool
	start       time.Time
	live        bool // a Live line is on screen
}

// NewDisplay writes to w; style adds colour, interactive (a terminal that
// can move its cursor, whatever NO_COLOR says) rewrites live lines in place.
func NewDisplay(w io.Writer, style content.Style, interactive bool) *Display {
	return &Display{w: w, style: style, interactive: interactive, start: time.Now()}
}

func (d *Display) line(mark, msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.endLive()
	el := fmt.Sprintf("[%5.1fs]", time.Since(d.start).Seconds())
	fmt.Fprintf(d.w, "%s %s%s\n", d.style.Dim(el), mark, msg)
}

// Status reports a step that is starting.
func (d *Display) Status(msg string) { d.line("", msg) }

// Done reports a step that finished well.
func (d *Display) Done(msg string) { d.line(d.style.Green("✓ "), msg) }

// Fail reports a step that went wrong.
func (d *Display) Fail(msg string) { d.line(d.style.Red("✗ "), msg) }

// Interactive reports whether the display draws on a terminal, where a
// live line can be rewritten in place.
func (d *Display) Interactive() bool { return d.interactive }

// Live shows a line that the next Live replaces: rewritten in place on a
// terminal, one line each when piped.
func (d *Display) Live(msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.interactive {
		fmt.Fprintf(d.w, "\r\x1b[K%s", msg)
		d.live = true
		return
	}
	fmt.Fprintln(d.w, msg)
}

// EndLive ends the Live line, if any.
func (d *Display) EndLive() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.endLive()
}

func (d *Display) endLive() {
	if d.live {
		fmt.Fprintln(d.w)
		d.live = false
	}
}
