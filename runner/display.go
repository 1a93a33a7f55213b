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
	mu    sync.Mutex
	w     io.Writer
	style content.Style
	start time.Time
}

// NewDisplay writes to w; style adds colour on a terminal.
func NewDisplay(w io.Writer, style content.Style) *Display {
	return &Display{w: w, style: style, start: time.Now()}
}

func (d *Display) line(mark, msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	el := fmt.Sprintf("[%5.1fs]", time.Since(d.start).Seconds())
	fmt.Fprintf(d.w, "%s %s%s\n", d.style.Dim(el), mark, msg)
}

// Status reports a step that is starting.
func (d *Display) Status(msg string) { d.line("", msg) }

// Done reports a step that finished well.
func (d *Display) Done(msg string) { d.line(d.style.Green("✓ "), msg) }

// Fail reports a step that went wrong.
func (d *Display) Fail(msg string) { d.line(d.style.Red("✗ "), msg) }
