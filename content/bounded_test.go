package content

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

type pathologicalCase struct {
	name string
	text func(size int) string // Markdown of at most size bytes
}

func repeat(unit string) func(int) string {
	return func(size int) string { return strings.Repeat(unit, size/len(unit)) }
}

// pathological lists Markdown that took goldmark v1.8.7 super-linear time
// (seconds at 64 KiB, minutes at MaxLabSize), or that costs the most under
// our caps, or that stresses Parse's own loop.
func pathological() []pathologicalCase {
	return []pathologicalCase{
		{"star-a-under", repeat("*a_")},
		{"goldmark555", repeat("*a_b*c_d**e_f*g**h*i_j**")},
		{"strong-mix", repeat("**a__")},
		{"bracket-emph", repeat("[*_a")},
		{"empty-link", repeat("[](")},
		{"angle", repeat("<>")},
		{"backticks", repeat("`a``")},
		{"backtick-runs", func(size int) string { // spans that never close, each scanning to the paragraph's end
			var b strings.Builder
			for n := 1; n <= maxInlinePerBlock; n++ {
				b.WriteString(strings.Repeat("`", n) + "a")
			}
			return b.String() + repeat("a")(size-b.Len())
		}},
		{"blockquote", repeat("> ")},
		{"ordered-list", repeat("1. ")},
		{"plus-list", repeat("+ ")},
		{"nested-list", func(size int) string { // each line one level deeper
			var b strings.Builder
			for n := 0; b.Len()+2*n+4 <= size; n++ {
				b.WriteString(strings.Repeat("  ", n) + "- a\n")
			}
			return b.String()
		}},
		{"link-refs", repeat("[a]: b\n")},
		{"setups", repeat("```setup\n```\n")},
		{"steps", repeat("## s\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```solve\ntrue\n```\n")},
	}
}

// lab is a valid lab of exactly size bytes: one step, then the case's text.
func (c pathologicalCase) lab(size int) []byte {
	head := "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n## A\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```solve\ntrue\n```\n\n"
	body := c.text(size - len(head))
	return []byte(head + body + strings.Repeat("\n", size-len(head)-len(body)))
}

// Hostile or mistyped labs of MaxLabSize bytes parse in bounded time. The
// old parser took minutes on the emphasis, link and nesting cases.
func TestParsePathologicalIsBounded(t *testing.T) {
	// Measured: at most 0.3s each, 2s with -race, on a busy 2-core machine.
	const deadline = 10 * time.Second
	for _, tc := range pathological() {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.lab(MaxLabSize)
			done := make(chan error, 1)
			go func() {
				_, err := Parse("x.md", src)
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(deadline):
				t.Fatalf("parsing %d bytes took over %v", len(src), deadline)
			}
		})
	}
}

// The caps are per paragraph: emphasis still works after a paragraph that
// hit them, and in ordinary prose.
func TestEmphasisStillRenders(t *testing.T) {
	tests := []struct{ name, prose string }{
		{"plain", "Some **bold** and *italic* text."},
		{"after a capped paragraph", strings.Repeat("*a_", 1000) + "\n\nSome **bold** and *italic* text."},
		{"many in one paragraph", strings.Repeat("x ", 50) + strings.Repeat("*i* ", 90) + "Some **bold** and *italic* text."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n" + tc.prose + "\n## A\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```solve\ntrue\n```\n"
			lab, err := Parse("x.md", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := Render(&b, lab.Intro, Style{Color: true, Width: 1 << 20}); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"\x1b[1mbold\x1b[0m", "\x1b[3mitalic\x1b[0m"} {
				if !strings.Contains(b.String(), want) {
					t.Errorf("render lacks %q:\n%q", want, b.String())
				}
			}
		})
	}
}

// kitchenSink has one of each construct the caps touch, at ordinary sizes.
const kitchenSink = `Title
=====

Some *em*, **strong**, ***both***, _u_ and __uu__, a [link](http://x "t"),
an ![image](i.png), <http://auto.link>, <b>html</b>, ` + "`code`" + `, a [ref][r],
a [shortcut], a stray ] and * and _ and ` + "`" + ` and an unclosed [bracket.

> quoted *text*
> > nested [link](y)

1. one
   - two **deep**
     > three
2. four

[r]: http://ref
[shortcut]: http://short
`

// Real Markdown (the built-in labs, their README, the samples here) parses
// to exactly the tree goldmark's default parser builds, so rendering is
// unchanged.
func TestBoundedParserMatchesGoldmark(t *testing.T) {
	files, err := filepath.Glob("../labs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no labs: %v", err)
	}
	tests := map[string]string{"good": good, "kitchen sink": kitchenSink}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tests[filepath.Base(f)] = string(src)
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			src := []byte(src)
			want := dump(src, goldmark.DefaultParser().Parse(text.NewReader(src)))
			if got := dump(src, newMarkdownParser().Parse(text.NewReader(src))); got != want {
				t.Errorf("tree differs from goldmark's\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// dump writes the parts of a tree that rendering uses.
func dump(src []byte, doc ast.Node) string {
	var b strings.Builder
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			b.WriteString(")")
			return ast.WalkContinue, nil
		}
		fmt.Fprintf(&b, "\n(%s", n.Kind())
		switch n := n.(type) {
		case *ast.Text:
			fmt.Fprintf(&b, " %q soft=%v hard=%v", n.Segment.Value(src), n.SoftLineBreak(), n.HardLineBreak())
		case *ast.Emphasis:
			fmt.Fprintf(&b, " %d", n.Level)
		case *ast.Link:
			fmt.Fprintf(&b, " %q", n.Destination)
		}
		if n.Type() == ast.TypeBlock {
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				fmt.Fprintf(&b, " %q", seg.Value(src))
			}
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// go test -bench ParsePathological -benchtime 3x ./content: ns/op should
// about double with the size, and MB/s stay flat.
func BenchmarkParsePathological(b *testing.B) {
	for _, tc := range pathological() {
		for _, size := range []int{64 << 10, 256 << 10, MaxLabSize} {
			b.Run(fmt.Sprintf("%s/%dKiB", tc.name, size>>10), func(b *testing.B) {
				src := tc.lab(size)
				b.SetBytes(int64(size))
				for b.Loop() {
					if _, err := Parse("x.md", src); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
