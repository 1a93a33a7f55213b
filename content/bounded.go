package content

import (
	"github.com/yuin/goldmark/ast"
	gmparser "github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// Goldmark v1.8.7 takes super-linear time in the number of emphasis
// delimiters (yuin/goldmark#555), link brackets or code-span backticks in a
// paragraph, in the nesting of lists and blockquotes on one line, and in the
// number of link reference definitions in a paragraph: minutes for a 512 KiB
// file. A lab may come from any disk (labs test ./draft.md), so these caps
// keep parsing linear in the file size. Real lab prose stays far below them
// and parses to the same tree as with goldmark's default parser.
const (
	// maxInlinePerBlock is how many times each inline parser (emphasis,
	// link, code span, autolink, raw HTML) may run in one paragraph or
	// heading; past it, its trigger characters ('*', '_', '[', '`', ...)
	// are plain text.
	maxInlinePerBlock = 200
	// maxBlockDepth is how many blocks (a list and its item count two) a
	// list or blockquote may be nested in; deeper markers are paragraph
	// text. It also bounds the renderer's indentation.
	maxBlockDepth = 16
	// maxTransformLines is the longest paragraph scanned for link
	// reference definitions ("[x]: url"); goldmark removes each one by
	// copying the rest of the paragraph's lines.
	maxTransformLines = 200
)

// newMarkdownParser is goldmark's default parser with the caps above. Its
// inline parsers count per block, so use it for one document only.
func newMarkdownParser() gmparser.Parser {
	blocks := gmparser.DefaultBlockParsers()
	for i, b := range blocks {
		switch b.Value {
		case gmparser.NewBlockquoteParser(), gmparser.NewListParser(): // containers; list items open only inside a list
			blocks[i].Value = shallow{b.Value.(gmparser.BlockParser)}
		}
	}
	inlines := gmparser.DefaultInlineParsers()
	for i, ip := range inlines {
		inlines[i].Value = &capped{InlineParser: ip.Value.(gmparser.InlineParser)}
	}
	paras := gmparser.DefaultParagraphTransformers()
	for i, pt := range paras {
		paras[i].Value = fewLines{pt.Value.(gmparser.ParagraphTransformer)}
	}
	return gmparser.NewParser(gmparser.WithBlockParsers(blocks...),
		gmparser.WithInlineParsers(inlines...),
		gmparser.WithParagraphTransformers(paras...))
}

// capped runs an inline parser at most maxInlinePerBlock times per block.
type capped struct {
	gmparser.InlineParser
	block ast.Node // the paragraph or heading being parsed
	runs  int      // calls in it so far
}

func (c *capped) Parse(parent ast.Node, block text.Reader, pc gmparser.Context) ast.Node {
	if parent != c.block {
		c.block, c.runs = parent, 0
	}
	c.runs++
	if c.runs > maxInlinePerBlock {
		return nil
	}
	return c.InlineParser.Parse(parent, block, pc)
}

// CloseBlock forwards to the wrapped parser: the link parser needs it to turn
// unclosed '[' back into text and reset its state for the next block.
func (c *capped) CloseBlock(parent ast.Node, block text.Reader, pc gmparser.Context) {
	if cb, ok := c.InlineParser.(gmparser.CloseBlocker); ok {
		cb.CloseBlock(parent, block, pc)
	}
}

// shallow opens a container block only above maxBlockDepth.
type shallow struct{ gmparser.BlockParser }

func (s shallow) Open(parent ast.Node, reader text.Reader, pc gmparser.Context) (ast.Node, gmparser.State) {
	depth := 0
	for n := parent; n != nil; n = n.Parent() {
		if depth++; depth > maxBlockDepth {
			return nil, gmparser.NoChildren
		}
	}
	return s.BlockParser.Open(parent, reader, pc)
}

// fewLines runs a paragraph transformer only on paragraphs of at most
// maxTransformLines lines.
type fewLines struct{ gmparser.ParagraphTransformer }

func (f fewLines) Transform(node *ast.Paragraph, reader text.Reader, pc gmparser.Context) {
	if node.Lines().Len() <= maxTransformLines {
		f.ParagraphTransformer.Transform(node, reader, pc)
	}
}
