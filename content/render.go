package content

import (
	"fmt"
	"io"
	"strings"

	"github.com/yuin/goldmark/ast"
)

// Style says how to draw: ANSI colours for a terminal, none when piped.
type Style struct {
	Color bool
	Width int // wrap paragraphs at this many columns; 0 means 80
	// Expand, if set, rewrites ${NAME} in the text: the lab's facts, such
	// as the real name of a worker node on this cluster.
	Expand func(string) string
}

func (s Style) expand(t string) string {
	if s.Expand == nil {
		return t
	}
	return s.Expand(t)
}

func (s Style) wrap(code, text string) string {
	if !s.Color || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// Bold, Dim, Green, Red and Cyan style short strings for the runner's output.
func (s Style) Bold(t string) string  { return s.wrap("1", t) }
func (s Style) Dim(t string) string   { return s.wrap("2", t) }
func (s Style) Green(t string) string { return s.wrap("32", t) }
func (s Style) Red(t string) string   { return s.wrap("31", t) }
func (s Style) Cyan(t string) string  { return s.wrap("36", t) }

// Render writes prose for a terminal: wrapped paragraphs, bullets, indented
// code blocks, inline code highlighted.
func Render(w io.Writer, p Prose, st Style) error {
	if st.Width <= 0 {
		st.Width = 80
	}
	r := &renderer{src: p.src, st: st}
	for i, n := range p.nodes {
		if i > 0 {
			r.b.WriteString("\n")
		}
		r.block(n, "")
	}
	_, err := io.WriteString(w, r.b.String())
	return err
}

type renderer struct {
	src []byte
	st  Style
	b   strings.Builder
}

func (r *renderer) block(n ast.Node, indent string) {
	switch n := n.(type) {
	case *ast.Heading:
		r.b.WriteString(indent + r.st.Bold(r.text(n)) + "\n")
	case *ast.Paragraph, *ast.TextBlock:
		r.paragraph(r.text(n), indent, indent)
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			line := strings.TrimRight(r.st.expand(string(seg.Value(r.src))), "\n")
			r.b.WriteString(indent + "    " + r.st.Cyan(line) + "\n")
		}
	case *ast.List:
		num := n.Start
		for item := n.FirstChild(); item != nil; item = item.NextSibling() {
			bullet := "  • "
			if n.IsOrdered() {
				bullet = fmt.Sprintf("  %d. ", num)
				num++
			}
			r.listItem(item, indent, bullet)
		}
	case *ast.Blockquote:
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			r.block(c, indent+"  │ ")
		}
	case *ast.ThematicBreak:
		r.b.WriteString(indent + r.st.Dim(strings.Repeat("─", 40)) + "\n")
	default:
		lines := n.Lines()
		for i := 0; lines != nil && i < lines.Len(); i++ {
			seg := lines.At(i)
			r.b.WriteString(indent + string(seg.Value(r.src)))
		}
	}
}

func (r *renderer) listItem(item ast.Node, indent, bullet string) {
	first := true
	for c := item.FirstChild(); c != nil; c = c.NextSibling() {
		switch c.(type) {
		case *ast.Paragraph, *ast.TextBlock:
			lead := indent + strings.Repeat(" ", len([]rune(bullet)))
			if first {
				r.paragraph(r.text(c), indent+bullet, lead)
			} else {
				r.paragraph(r.text(c), lead, lead)
			}
		default:
			r.block(c, indent+strings.Repeat(" ", len([]rune(bullet))))
		}
		first = false
	}
}

// paragraph word-wraps text; styled spans count by their visible width.
func (r *renderer) paragraph(text, first, rest string) {
	width := r.st.Width
	line, lineLen := first, visible(first)
	words := strings.Fields(text)
	for i, w := range words {
		wl := visible(w)
		if i > 0 && lineLen+1+wl > width {
			r.b.WriteString(strings.ReplaceAll(line, glue, " ") + "\n")
			line, lineLen = rest, visible(rest)
		} else if i > 0 {
			line += " "
			lineLen++
		}
		line += w
		lineLen += wl
	}
	r.b.WriteString(strings.ReplaceAll(line, glue, " ") + "\n")
}

// glue stands for a space inside a code span while wrapping, so a command is
// never split across lines yet copies out with plain spaces.
const glue = "\x01"

// visible is the terminal width of s: Hangul counts two columns, colour
// escapes none (see Width).
func visible(s string) int { return Width(strings.ReplaceAll(s, glue, " ")) }

// text is a block's inline content with the lab's facts filled in (after
// inline parsing, which may split ${NAME} across text nodes).
func (r *renderer) text(n ast.Node) string { return r.st.expand(r.inline(n)) }

func (r *renderer) inline(n ast.Node) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(r.src))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.CodeSpan:
			// Keep code spans one word so wrapping never splits a command.
			code := strings.ReplaceAll(r.inline(c), " ", glue)
			b.WriteString(r.st.Cyan(code))
		case *ast.Emphasis:
			if c.Level >= 2 {
				b.WriteString(r.st.Bold(r.inline(c)))
			} else {
				b.WriteString(r.st.wrap("3", r.inline(c)))
			}
		case *ast.Link:
			b.WriteString(r.inline(c) + " (" + string(c.Destination) + ")")
		case *ast.AutoLink:
			b.Write(c.URL(r.src))
		default:
			b.WriteString(r.inline(c))
		}
	}
	return b.String()
}
