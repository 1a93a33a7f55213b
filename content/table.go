package content

import (
	"io"
	"regexp"
	"strings"

	"github.com/mattn/go-runewidth"
)

// Table aligns columns by their width on a terminal, not by bytes or runes:
// a Hangul syllable takes two columns (text/tabwriter counts it as one), and
// colour escapes take none.
type Table struct{ rows [][]string }

// NewTable starts a table with its header row.
func NewTable(header ...string) *Table { return &Table{rows: [][]string{header}} }

// Row adds a row.
func (t *Table) Row(cells ...string) { t.rows = append(t.rows, cells) }

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// narrow measures as most terminals draw: Hangul and other wide letters
// take two columns, while ambiguous ones (—, …, ·, ×) take one, whatever
// the locale says (go-runewidth would count them as two under ko_KR).
var narrow = &runewidth.Condition{EastAsianWidth: false}

// Width is how many terminal columns s takes.
func Width(s string) int { return narrow.StringWidth(ansi.ReplaceAllString(s, "")) }

// Write prints the rows, columns two spaces apart, without trailing blanks.
func (t *Table) Write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], Width(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		line := ""
		for i, c := range r {
			if i < len(r)-1 {
				c += strings.Repeat(" ", widths[i]-Width(c)+2)
			}
			line += c
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Truncate cuts s to w terminal columns, ending in "…" when cut.
func Truncate(s string, w int) string { return narrow.Truncate(s, w, "…") }
