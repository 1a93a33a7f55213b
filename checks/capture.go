package checks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/google/cel-go/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Exporter is a check with a `capture:` field: when it passes, it names
// values it saw, for later steps to use as ${NAME}. "The node you
// cordoned" is the learner's choice, not a constant of the lab. (Not to be
// confused with Capturer, which records a step's starting point.)
type Exporter interface {
	// Exports are the names the check sets when it passes.
	Exports() []string
	// Export computes them from the state in which the check passed.
	Export(s *State) (map[string]string, error)
}

// CapturesOf lists the names a spec captures, sorted (none for a spec that
// cannot capture or does not decode). It reads the `capture:` keys without
// compiling the check: the lab parser asks for every check of every lab,
// and ParseSpecs has compiled (validated) them already.
func CapturesOf(s Spec) []string {
	if s.Type != "object" {
		return nil
	}
	var p struct {
		Capture map[string]json.RawMessage `json:"capture"`
	}
	if json.Unmarshal(s.Params, &p) != nil {
		return nil
	}
	names := make([]string, 0, len(p.Capture))
	for n := range p.Capture {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var captureName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// FactPrefix starts the names labs itself gives (LAB_WORKER_1): a capture
// may not take one.
const FactPrefix = "LAB_"

// VarRefs lists the ${NAME} references in s whose NAME looks like a lab
// variable (upper case), in order of appearance, each once. Lower-case
// ${i} is a shell's business.
func VarRefs(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range varRef.FindAllStringSubmatch(s, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

var varRef = regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*)\}`)

// captureExpr is one compiled `capture:` entry.
type captureExpr struct {
	name string
	*celProgram
}

// compileCaptures compiles a check's `capture:` map: NAME -> a CEL
// expression over `objects` (or `object`: the first selected object that
// satisfies the check) and the `with` names, that gives a string or a number.
func compileCaptures(m map[string]string, with []string) ([]captureExpr, error) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []captureExpr
	for _, n := range names {
		if !captureName.MatchString(n) || strings.HasPrefix(n, FactPrefix) {
			return nil, fmt.Errorf("capture name %q must be upper-case letters, digits and _ (like DRAINED_NODE), not starting with %s (labs' own names)", n, FactPrefix)
		}
		prg, err := compileCELProgram(m[n], with, func(t *cel.Type) bool {
			return t == cel.StringType || t == cel.IntType || t == cel.UintType || t == cel.DoubleType || t == cel.DynType
		}, "a string or a number")
		if err != nil {
			return nil, fmt.Errorf("capture %s: %w", n, err)
		}
		out = append(out, captureExpr{name: n, celProgram: prg})
	}
	return out, nil
}

// value computes one captured value.
func (e captureExpr) value(in celInput) (string, error) {
	out, err := e.eval(in)
	if err != nil {
		return "", fmt.Errorf("capture %s (`%s`) is not computable: %v", e.name, e.src, err)
	}
	switch v := out.(type) {
	case string:
		if v == "" {
			return "", fmt.Errorf("capture %s (`%s`) is empty", e.name, e.src)
		}
		return v, nil
	case int64, uint64, float64:
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("capture %s (`%s`) gives %v, not a string or a number", e.name, e.src, out)
}

func (c *object) Exports() []string {
	out := make([]string, len(c.captures))
	for i, e := range c.captures {
		out[i] = e.name
	}
	return out
}

// Export evaluates the captures over the objects that made the check pass.
func (c *object) Export(s *State) (map[string]string, error) {
	if len(c.captures) == 0 {
		return nil, nil
	}
	sel := c.selected(s)
	in, missing := c.input(s, sel)
	if missing != "" {
		return nil, fmt.Errorf("capture: %s", missing)
	}
	var first *unstructured.Unstructured
	for _, o := range sel {
		if c.judgeOne(o, in) == "" {
			first = o
			break
		}
	}
	out := map[string]string{}
	for _, e := range c.captures {
		in.object = nil
		if e.perObject {
			if first == nil {
				return nil, fmt.Errorf("capture %s: no selected %s satisfies the check", e.name, c.res.Kind)
			}
			in.object = first.Object
		}
		v, err := e.value(in)
		if err != nil {
			return nil, err
		}
		out[e.name] = v
	}
	return out, nil
}
