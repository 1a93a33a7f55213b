package checks

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/ext"
	"k8s.io/apiserver/pkg/cel/library"
)

// The variables every expression may read. An `object` check binds more
// of its own with `with:`.
const (
	varObject   = "object"   // the selected object being judged
	varObjects  = "objects"  // every selected object
	varBaseline = "baseline" // the lab namespace as the step began
	varStep     = "step"     // the step itself: step.started
)

// builtinVars are the names a `with:` binding may not take.
var builtinVars = []string{varObject, varObjects, varBaseline, varStep}

// celReserved are CEL's reserved words: no variable may be called so.
var celReserved = []string{"as", "break", "const", "continue", "else", "false", "for", "function", "if", "import", "in", "let", "loop", "namespace", "null", "package", "return", "true", "var", "void", "while"}

// baseCELEnv is the environment Kubernetes gives ValidatingAdmissionPolicy
// authors at 1.34 (k8s.io/apiserver/pkg/cel/environment), minus authz,
// which needs an authorizer: quantity(), the lists, regex, url, ip/cidr,
// format and semver libraries, cel-go's strings, sets, lists and two-variable
// comprehensions, optional fields. Built once: declaring the libraries is
// the costly part, and the env is immutable.
var baseCELEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.HomogeneousAggregateLiterals(),
		cel.EagerlyValidateDeclarations(true),
		cel.DefaultUTCTimeZone(true),
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		cel.ASTValidators(cel.ValidateDurationLiterals(), cel.ValidateTimestampLiterals(), cel.ValidateRegexLiterals(), cel.ValidateHomogeneousAggregateLiterals()),
		library.URLs(), library.Regex(), library.Lists(), library.Quantity(),
		library.IP(), library.CIDR(), library.Format(), library.SemverLib(library.SemverVersion(1)),
		ext.Strings(ext.StringsVersion(2)), ext.Sets(), ext.TwoVarComprehensions(), ext.Lists(ext.ListsVersion(3)),
		cel.Variable(varObject, cel.DynType),
		cel.Variable(varObjects, cel.ListType(cel.DynType)),
		cel.Variable(varBaseline, cel.DynType),
		cel.Variable(varStep, cel.DynType),
	)
})

// celProgram is one compiled expression and what it reads.
type celProgram struct {
	src string
	prg cel.Program
	// perObject: it names `object`, so it is judged for each selected
	// object; otherwise once over `objects`.
	perObject bool
	reads     map[string]bool
}

// compileCELProgram compiles src over the built-in variables and the
// `with:` names. Its type must pass ok. Evaluation is bounded by a cost
// limit, so an author's expression cannot hang a check.
func compileCELProgram(src string, with []string, ok func(*cel.Type) bool, want string) (*celProgram, error) {
	env, err := baseCELEnv()
	if err != nil {
		return nil, fmt.Errorf("the CEL environment: %w", err)
	}
	if len(with) > 0 {
		opts := make([]cel.EnvOption, len(with))
		for i, n := range with {
			opts[i] = cel.Variable(n, cel.DynType)
		}
		if env, err = env.Extend(opts...); err != nil {
			return nil, fmt.Errorf("the CEL environment: %w", err)
		}
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, fmt.Errorf("%q does not compile: %s", src, strings.ReplaceAll(iss.Err().Error(), "\n", " "))
	}
	// A loop variable named like a variable would hide it, and make what
	// the expression reads ambiguous (`objects.all(object, ...)` is judged
	// once, not per object).
	taken := append(slices.Clone(builtinVars), with...)
	var shadow string
	celast.PreOrderVisit(ast.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() != celast.ComprehensionKind || shadow != "" {
			return
		}
		c := e.AsComprehension()
		for _, v := range []string{c.IterVar(), c.IterVar2()} {
			if slices.Contains(taken, v) {
				shadow = v
			}
		}
	}))
	if shadow != "" {
		return nil, fmt.Errorf("%q names a loop variable %s, a variable the expression already has: call it something else", src, shadow)
	}
	if t := ast.OutputType(); !ok(t) {
		return nil, fmt.Errorf("%q gives %s; it must give %s", src, t, want)
	}
	prg, err := env.Program(ast, cel.CostLimit(1_000_000), cel.CostTracking(&library.CostEstimator{}), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, fmt.Errorf("%q: %w", src, err)
	}
	p := &celProgram{src: src, prg: prg, reads: map[string]bool{}}
	for _, r := range ast.NativeRep().ReferenceMap() {
		if r.Name != "" && r.Value == nil && len(r.OverloadIDs) == 0 {
			p.reads[r.Name] = true
		}
	}
	p.perObject = p.reads[varObject]
	return p, nil
}

// celInput is what an evaluation binds.
type celInput struct {
	object   map[string]any // the object judged, for a per-object program
	objects  []any
	baseline map[string]any
	step     map[string]any
	with     map[string]any
}

// eval runs the program on in.
func (p *celProgram) eval(in celInput) (any, error) {
	vars := map[string]any{varObjects: in.objects, varBaseline: in.baseline, varStep: in.step, varObject: nil}
	if p.perObject {
		vars[varObject] = in.object
	}
	for k, v := range in.with {
		vars[k] = v
	}
	out, _, err := p.prg.Eval(vars)
	if err != nil {
		return nil, err
	}
	return out.Value(), nil
}

// celExpr is an `expr`: a program that gives true or false.
type celExpr struct{ *celProgram }

// compileCEL compiles src, which must give true or false.
func compileCEL(src string, with []string) (*celExpr, error) {
	p, err := compileCELProgram(src, with, func(t *cel.Type) bool { return t == cel.BoolType || t == cel.DynType }, "true or false")
	if err != nil {
		return nil, fmt.Errorf("expr %w", err)
	}
	return &celExpr{p}, nil
}

// holds returns whether the expression holds and, if not, what it gave.
func (e *celExpr) holds(in celInput) (bool, string) {
	v, err := e.eval(in)
	if err != nil {
		return false, "not computable (" + err.Error() + ")"
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Sprintf("%v, not true or false", v)
	}
	if !b {
		return false, "false"
	}
	return true, ""
}

// stepValue is the step as CEL sees it: step.started, the API server's
// time when the step began (zero when unknown: a baseline written by an
// older labs).
func stepValue(b *Baseline) map[string]any {
	started := time.Unix(0, 0).UTC()
	if b != nil && !b.Started.IsZero() {
		started = b.Started.UTC()
	}
	return map[string]any{"started": started}
}

// baselineValue is the baseline as CEL sees it: baseline.pods, a list of
// {name, uid, labels, restarts, node}.
func baselineValue(b *Baseline) map[string]any {
	pods := []any{}
	if b != nil {
		uids := make([]string, 0, len(b.Pods))
		for uid := range b.Pods {
			uids = append(uids, uid)
		}
		sort.Strings(uids)
		for _, uid := range uids {
			r := b.Pods[uid]
			restarts := map[string]any{}
			for c, n := range r.Restarts {
				restarts[c] = int64(n)
			}
			lbls := map[string]any{}
			for k, v := range r.Labels {
				lbls[k] = v
			}
			pods = append(pods, map[string]any{"name": r.Name, "uid": uid, "labels": lbls, "restarts": restarts, "node": r.Node})
		}
	}
	return map[string]any{"pods": pods}
}

// withName is a `with:` binding's name: a CEL identifier.
var withName = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)

// checkWithName refuses a name CEL or labs already uses.
func checkWithName(n string) error {
	switch {
	case n == "true" || n == "false":
		return fmt.Errorf("with: a name YAML reads as %s (y, n, yes, no, on and off are booleans in YAML): quote it or choose another", n)
	case !withName.MatchString(n):
		return fmt.Errorf("with: name %q must start with a lower-case letter, then letters, digits and _ (it becomes a CEL variable)", n)
	case slices.Contains(builtinVars, n):
		return fmt.Errorf("with: name %q is a variable every expression has (%s): choose another", n, strings.Join(builtinVars, ", "))
	case slices.Contains(celReserved, n):
		return fmt.Errorf("with: name %q is a reserved word of CEL: choose another", n)
	}
	env, err := baseCELEnv()
	if err == nil {
		if _, ok := env.Functions()[n]; ok {
			return fmt.Errorf("with: name %q is a CEL function: choose another", n)
		}
	}
	return nil
}
