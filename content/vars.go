package content

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/labs-dev/labs/checks"
	"github.com/yuin/goldmark/ast"
)

// factName is what labs itself provides as ${NAME} (see docs/authoring.md):
// the namespace and the nodes, whose names differ between clusters.
var factName = regexp.MustCompile(`^LAB_(NAMESPACE|CONTROL_PLANE|WORKER_[1-9][0-9]*)$`)

// IsFact reports whether name is one of the facts labs provides.
func IsFact(name string) bool { return factName.MatchString(name) }

// checkRefs finds a ${NAME} in s that is neither a fact nor captured by an
// earlier step, and says why it is wrong. Scripts are not checked: a
// shell's own ${NODE} is none of labs' business.
func (p *parser) checkRefs(s string) string {
	for _, name := range checks.VarRefs(s) {
		switch {
		case IsFact(name):
		case strings.HasPrefix(name, checks.FactPrefix):
			return fmt.Sprintf("${%s} is not a fact labs provides (LAB_NAMESPACE, LAB_CONTROL_PLANE, LAB_WORKER_1, LAB_WORKER_2)", name)
		case p.captured[name] == 0:
			if at := p.pending[name]; at != 0 {
				return fmt.Sprintf("${%s} is captured by this step's own check; only later steps can use it", name)
			}
			return fmt.Sprintf("${%s} is not captured by an earlier step (a check's `capture: {%s: ...}`) nor a fact labs provides", name, name)
		}
	}
	return ""
}

// refText is the text of a check whose ${NAME}s must be facts or
// captures: all of it but an exec check's command, which is a shell's
// (`echo ${GREETING}` reads the container's environment).
func refText(s checks.Spec) string {
	if s.Type == "exec" {
		var m map[string]any
		if json.Unmarshal(s.Params, &m) == nil {
			delete(m, "command")
			s.Params, _ = json.Marshal(m)
		}
	}
	b, _ := s.MarshalJSON()
	return string(b)
}

// declareCaptures notes the names a step's checks capture; they become
// usable when the step ends.
func (p *parser) declareCaptures(fb *ast.FencedCodeBlock, step int, specs []checks.Spec) error {
	for _, s := range specs {
		for _, name := range checks.CapturesOf(s) {
			if at := p.captured[name]; at != 0 {
				return p.errorf(fb, "${%s} is captured by step %d already: give this capture another name", name, at)
			}
			if p.pending[name] != 0 {
				return p.errorf(fb, "${%s} is captured twice in this step", name)
			}
			p.pending[name] = step
		}
	}
	return nil
}

// endCaptures makes a finished step's captures usable by the steps after.
func (p *parser) endCaptures(lab *Lab) {
	for name, step := range p.pending {
		p.captured[name] = step
		if lab.Captures == nil {
			lab.Captures = map[string]int{}
		}
		lab.Captures[name] = step - 1
	}
	clear(p.pending)
}

// proseRefs checks the ${NAME}s of prose nodes (their raw lines, code
// included: that is where a learner reads `labs kubectl drain ${NODE}`).
func (p *parser) proseRefs(nodes []ast.Node) error {
	for _, n := range nodes {
		var bad string
		_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
			if !entering || bad != "" || c.Type() != ast.TypeBlock {
				return ast.WalkContinue, nil
			}
			lines := c.Lines()
			for i := 0; lines != nil && i < lines.Len(); i++ {
				seg := lines.At(i)
				if bad = p.checkRefs(string(seg.Value(p.src))); bad != "" {
					return ast.WalkStop, nil
				}
			}
			return ast.WalkContinue, nil
		})
		if bad != "" {
			return p.errorf(n, "%s", bad)
		}
	}
	return nil
}
