package content

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/labs-dev/labs/checks"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	yaml3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// ParseError points at the line of a lab file that is wrong.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// idPattern is a DNS label, as ids become namespace names.
var idPattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

const fence = "---"

// MaxLabSize is the largest lab file Parse accepts, in bytes. Real labs are
// 10-20 KB; the cap bounds parse time and memory for a mistaken or hostile file.
const MaxLabSize = 512 << 10

// Parse reads one lab file of at most MaxLabSize bytes and compiles every
// check in it. name is used in error messages.
func Parse(name string, src []byte) (*Lab, error) { return parse(name, src, false) }

// ParseLinted is Parse for a file that `labs lint` has passed, the labs
// built into the binary (`make test` lints them): its checks are decoded
// but not compiled (most of the time Parse takes), which the check engine
// does anyway before a check runs.
func ParseLinted(name string, src []byte) (*Lab, error) { return parse(name, src, true) }

func parse(name string, src []byte, linted bool) (*Lab, error) {
	if len(src) > MaxLabSize {
		return nil, &ParseError{name, 1, fmt.Sprintf("file is %d bytes, over the limit of %d bytes (%d KiB) for a lab", len(src), MaxLabSize, MaxLabSize>>10)}
	}
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	src = bytes.TrimPrefix(src, []byte("\ufeff")) // a BOM, as Windows editors write
	lab := &Lab{Source: name}
	fm, body, bodyLine, err := splitFrontMatter(name, src)
	if err != nil {
		return nil, err
	}
	if err := fm.setScope(name, lab); err != nil {
		return nil, err
	}
	p := &parser{file: name, src: body, lineOffset: bodyLine - 1, captured: map[string]int{}, pending: map[string]int{}, linted: linted}
	if err := p.parse(lab); err != nil {
		return nil, err
	}
	for n, pts := range lab.Points {
		if n < 1 || n > len(lab.Steps) || pts < 0 {
			return nil, &ParseError{name, 2, fmt.Sprintf("front matter: points: step %d worth %d: steps are numbered 1 to %d and points are not negative", n, pts, len(lab.Steps))}
		}
	}
	switch lab.PodSecurity {
	case "", "baseline", "restricted", "privileged":
	default:
		return nil, &ParseError{name, 2, fmt.Sprintf("front matter: podSecurity %q: it is baseline (the default), restricted or privileged", lab.PodSecurity)}
	}
	// What a lab's scripts change on the nodes is judged by `labs lint`,
	// which reads them as sh; an old file says so itself.
	if fm.ChangesNodes != nil && *fm.ChangesNodes && len(lab.Cleanup) == 0 {
		return nil, &ParseError{name, lab.ChangesNodesLine, "front matter says changesNodes: true (the old name of scope: cluster): a lab that changes the nodes every lab shares needs a ```cleanup sh block before its first step that undoes it (kubectl uncordon, labs node memory NODE --lift), run at reset, after labs test and before another lab starts"}
	}
	return lab, nil
}

// frontMatter is the YAML between the two '---' lines: the lab's Meta,
// old fields still read, and the line of each top-level field.
type frontMatter struct {
	Meta
	// ChangesNodes is the old name of scope: true reads as scope: cluster.
	ChangesNodes *bool
	lines        map[string]int
}

func splitFrontMatter(name string, src []byte) (frontMatter, []byte, int, error) {
	var fm frontMatter
	if !bytes.HasPrefix(src, []byte(fence+"\n")) {
		return fm, nil, 0, &ParseError{name, 1, "missing front matter: a lab starts with a '---' line, YAML (id, title, summary, namespace), and another '---' line"}
	}
	rest := src[len(fence)+1:]
	end := bytes.Index(rest, []byte("\n---\n"))
	if end < 0 {
		return fm, nil, 0, &ParseError{name, 1, "front matter is not closed by a '---' line"}
	}
	yml := rest[:end+1]
	fm.lines = keyLines(yml, 1) // the YAML starts below the first '---'
	yml, old, err := takeKey(yml, "changesNodes")
	if err != nil {
		return fm, nil, 0, &ParseError{name, fm.lines["changesNodes"], "front matter: changesNodes: " + err.Error()}
	}
	fm.ChangesNodes = old
	if err := yaml.UnmarshalStrict(yml, &fm.Meta); err != nil {
		return fm, nil, 0, &ParseError{name, 2, "front matter: " + err.Error()}
	}
	meta := &fm.Meta
	for _, f := range []struct{ field, value string }{{"id", meta.ID}, {"title", meta.Title}, {"summary", meta.Summary}, {"namespace", meta.Namespace}} {
		if f.value == "" {
			return fm, nil, 0, &ParseError{name, 2, fmt.Sprintf("front matter: field %q is required", f.field)}
		}
	}
	if !idPattern.MatchString(meta.ID) || !idPattern.MatchString(meta.Namespace) {
		return fm, nil, 0, &ParseError{name, 2, fmt.Sprintf("front matter: id %q and namespace %q must be lower-case letters, digits and '-'", meta.ID, meta.Namespace)}
	}
	bodyStart := len(fence) + 1 + end + len("\n---\n")
	return fm, src[bodyStart:], bytes.Count(src[:bodyStart], []byte("\n")) + 1, nil
}

// setScope gives lab its Meta, with Scope normalised: the declared one,
// cluster for the old `changesNodes: true`, else namespace.
func (fm frontMatter) setScope(name string, lab *Lab) error {
	lab.Meta = fm.Meta
	line := func(key string) int {
		if n := fm.lines[key]; n > 0 {
			return n
		}
		return 2 // the front matter's first line
	}
	if fm.ChangesNodes != nil {
		lab.ChangesNodesLine = line("changesNodes")
		lab.ScopeLine = lab.ChangesNodesLine
	}
	switch {
	case lab.Scope != "":
		lab.ScopeLine = line("scope")
		if ScopeRank(lab.Scope) < 0 {
			return &ParseError{name, lab.ScopeLine, fmt.Sprintf("front matter: scope %q: it is namespace (the default: the lab stays in its namespace), cluster (it reads or changes cluster-scoped objects or other namespaces) or node (it needs the nodes themselves)", lab.Scope)}
		}
	case fm.ChangesNodes != nil && *fm.ChangesNodes:
		lab.Scope = ScopeCluster
	default:
		lab.Scope = ScopeNamespace
	}
	return nil
}

// keyLines maps each top-level key of a YAML mapping to its line; first is
// the line the YAML starts on, less one.
func keyLines(yml []byte, first int) map[string]int {
	lines := map[string]int{}
	var doc yaml3.Node
	if yaml3.Unmarshal(yml, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml3.MappingNode {
		return lines
	}
	m := doc.Content[0]
	for k := 0; k+1 < len(m.Content); k += 2 {
		lines[m.Content[k].Value] = first + m.Content[k].Line
	}
	return lines
}

// takeKey reads the boolean of a top-level key of a YAML mapping (nil when
// absent) and returns the YAML without it, its lines left blank (so
// later lines keep their numbers): an old field the strict decoding of
// Meta would call unknown.
func takeKey(yml []byte, key string) ([]byte, *bool, error) {
	var doc yaml3.Node
	if yaml3.Unmarshal(yml, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml3.MappingNode {
		return yml, nil, nil // the strict decoding says what is wrong
	}
	m := doc.Content[0]
	for k := 0; k+1 < len(m.Content); k += 2 {
		if m.Content[k].Value != key {
			continue
		}
		var v bool
		if err := m.Content[k+1].Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("want true or false, not %q", m.Content[k+1].Value)
		}
		from, to := m.Content[k].Line, bytes.Count(yml, []byte("\n")) // 1-based, inclusive
		if k+2 < len(m.Content) {
			to = m.Content[k+2].Line - 1
		}
		lines := bytes.Split(yml, []byte("\n"))
		for i := from - 1; i < to && i < len(lines); i++ {
			lines[i] = nil
		}
		return bytes.Join(lines, []byte("\n")), &v, nil
	}
	return yml, nil, nil
}

// entryLines are the lines, within a YAML list, where each entry starts
// (1-based); nil when src is not a list.
func entryLines(src string) []int {
	var doc yaml3.Node
	if yaml3.Unmarshal([]byte(src), &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml3.SequenceNode {
		return nil
	}
	var out []int
	for _, item := range doc.Content[0].Content {
		out = append(out, item.Line)
	}
	return out
}

type parser struct {
	file       string
	src        []byte
	lineOffset int
	// line counts on from its last answer (newlines before seenPos), as
	// blocks are numbered in file order: one pass, not one per block.
	seenPos, seenLines int
	// captured: names set by the checks of finished steps (-> 1-based
	// step); pending: by the step being read.
	captured, pending map[string]int
	// linted: decode check blocks without compiling them (ParseLinted).
	linted bool
}

func (p *parser) errorf(n ast.Node, format string, args ...any) error {
	return &ParseError{p.file, p.line(n), fmt.Sprintf(format, args...)}
}

// line is the 1-based line in the whole file where n starts.
func (p *parser) line(n ast.Node) int {
	pos, below := -1, 0
	if fb, ok := n.(*ast.FencedCodeBlock); ok && fb.Info != nil {
		pos = fb.Info.Segment.Start // on the opening fence
	} else if l := n.Lines(); l != nil && l.Len() > 0 {
		pos = l.At(0).Start
		if _, ok := n.(*ast.FencedCodeBlock); ok {
			below = 1 // Lines() starts below the opening fence
		}
	}
	if pos < 0 {
		pos = n.Pos()
	}
	if pos < 0 {
		return p.lineOffset + 1
	}
	if pos < p.seenPos {
		p.seenPos, p.seenLines = 0, 0
	}
	p.seenLines += bytes.Count(p.src[p.seenPos:pos], []byte("\n"))
	p.seenPos = pos
	return p.lineOffset + p.seenLines + 1 - below
}

func (p *parser) parse(lab *Lab) error {
	doc := newMarkdownParser().Parse(text.NewReader(p.src))
	var step *Step
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if h, ok := n.(*ast.Heading); ok && h.Level == 2 {
			if step != nil {
				if err := p.finish(lab, step); err != nil {
					return err
				}
			} else if err := p.proseRefs(lab.Intro.nodes); err != nil {
				return err
			}
			lab.Steps = append(lab.Steps, Step{Title: plain(p.src, h), Line: p.line(h), Prose: Prose{src: p.src}})
			step = &lab.Steps[len(lab.Steps)-1]
			continue
		}
		if hb, ok := n.(*ast.HTMLBlock); ok && hb.HTMLBlockType == ast.HTMLBlockType2 {
			continue // <!-- an author's note -->: never shown
		}
		if fb, ok := n.(*ast.FencedCodeBlock); ok {
			if handled, err := p.block(lab, step, fb); err != nil {
				return err
			} else if handled {
				continue
			}
		}
		if step == nil {
			lab.Intro.src = p.src
			lab.Intro.nodes = append(lab.Intro.nodes, n)
		} else {
			step.Prose.nodes = append(step.Prose.nodes, n)
		}
	}
	if step == nil {
		return &ParseError{p.file, p.lineOffset + 1, "no steps: each '## ' heading starts a step"}
	}
	return p.finish(lab, step)
}

// finish validates a step once its section ends (at next, or the file's end).
func (p *parser) finish(lab *Lab, s *Step) error {
	at := &ParseError{File: p.file, Line: s.Line}
	if err := p.proseRefs(s.Prose.nodes); err != nil {
		return err
	}
	if bad := p.checkRefs(s.Hint); bad != "" {
		at.Msg = "hint: " + bad
		return at
	}
	p.endCaptures(lab)
	switch {
	case len(s.Checks) == 0:
		at.Msg = fmt.Sprintf("step %q has no ```check block: every step must be checkable", s.Title)
	case strings.TrimSpace(s.Solve) == "":
		at.Msg = fmt.Sprintf("step %q has no ```solve block: every step needs a reference solution", s.Title)
	default:
		return nil
	}
	return at
}

// block handles the special fenced blocks; others stay prose.
func (p *parser) block(lab *Lab, step *Step, fb *ast.FencedCodeBlock) (bool, error) {
	info := ""
	if fb.Info != nil {
		info = strings.TrimSpace(string(fb.Info.Segment.Value(p.src)))
	}
	kind, arg, _ := strings.Cut(info, " ")
	body := p.code(fb)
	needStep := func() error {
		if step == nil {
			return p.errorf(fb, "a ```%s block must be inside a step (after a '## ' heading)", kind)
		}
		return nil
	}
	switch kind {
	case "setup", "cleanup":
		switch strings.TrimSpace(arg) {
		case "":
			if kind == "cleanup" {
				return true, p.errorf(fb, "```cleanup is a shell script: write ```cleanup sh")
			}
		case "sh":
		default:
			return true, p.errorf(fb, "```%s takes no argument or \"sh\", not %q", kind, arg)
		}
		b := Setup{Script: strings.TrimSpace(arg) == "sh", Text: body, Line: p.line(fb)}
		switch {
		case kind == "cleanup" && step != nil:
			return true, p.errorf(fb, "```cleanup belongs to the lab: put it before the first step")
		case kind == "cleanup":
			lab.Cleanup = append(lab.Cleanup, b)
		case step != nil:
			step.Setup = append(step.Setup, b)
		default:
			lab.Setup = append(lab.Setup, b)
		}
	case "check":
		if err := needStep(); err != nil {
			return true, err
		}
		if len(step.Checks) > 0 {
			return true, p.errorf(fb, "step %q has a second ```check block: put all its checks in one list", step.Title)
		}
		decode := checks.ParseSpecs
		if p.linted {
			decode = checks.DecodeSpecs
		}
		specs, err := decode([]byte(body))
		if err != nil {
			at := p.line(fb)
			var se *checks.SpecError
			if errors.As(err, &se) && se.Line > 0 {
				at += se.Line // the block's lines start below its fence
			}
			return true, &ParseError{p.file, at, err.Error()}
		}
		for i, sp := range specs {
			if bad := p.checkRefs(refText(sp)); bad != "" {
				return true, p.errorf(fb, "check %d: %s", i+1, bad)
			}
		}
		if err := p.declareCaptures(fb, len(lab.Steps), specs); err != nil {
			return true, err
		}
		step.Checks = specs
		if p.linted {
			break // CheckLines are for lint's messages
		}
		fenceLine := p.line(fb)
		entries := entryLines(body)
		step.CheckLines = make([]int, len(specs))
		for i := range specs {
			step.CheckLines[i] = fenceLine + 1 // the block's first line
			if len(entries) == len(specs) {
				step.CheckLines[i] = fenceLine + entries[i]
			}
		}
	case "solve", "hint":
		if err := needStep(); err != nil {
			return true, err
		}
		dst := &step.Solve
		if kind == "hint" {
			dst = &step.Hint
		}
		if *dst != "" {
			return true, p.errorf(fb, "step %q has a second ```%s block", step.Title, kind)
		}
		*dst = body
		if kind == "solve" {
			step.SolveLine = p.line(fb)
		}
	default:
		lab.Examples = append(lab.Examples, Example{Info: info, Text: body, Line: p.line(fb)})
		return false, nil
	}
	return true, nil
}

func (p *parser) code(fb *ast.FencedCodeBlock) string {
	var b strings.Builder
	lines := fb.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		b.Write(seg.Value(p.src))
	}
	return b.String()
}

// plain is the text of an inline container, without markup.
func plain(src []byte, n ast.Node) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}
