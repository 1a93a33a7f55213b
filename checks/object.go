package checks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

type objectParams struct {
	APIVersion string            `json:"apiVersion,omitempty"`
	Kind       string            `json:"kind"`
	Name       string            `json:"name,omitempty"`
	Selector   string            `json:"selector,omitempty"`
	Namespace  string            `json:"namespace,omitempty"`
	Count      *int              `json:"count,omitempty"`
	Match      map[string]any    `json:"match,omitempty"`
	Expr       string            `json:"expr,omitempty"`
	Capture    map[string]string `json:"capture,omitempty"`
}

func objectType() Type {
	return Type{
		Name:   "object",
		Fields: "`kind` (and `apiVersion` for a custom resource), `name` or `selector` (labels; neither: every object of the kind), `namespace` (default: the lab's; cluster-scoped kinds have none), `count` (optional), `match` (a partial object), `expr` (optional CEL over `object`, `objects`, `baseline`), `capture` (optional: NAME: a CEL expression giving a string, set when the check passes and usable as ${NAME} in later steps)",
		Passes: "the selected objects exist and each contains `match` (maps are subsets, scalars equal, lists element by element) and makes `expr` true; with `count`, exactly that many do. An `expr` that does not name `object` is judged once over the list `objects` (`size(objects) <= 3`). A failure names the first path that differs. Objects are read without `metadata.managedFields` (labs keeps none)",
		Example: `- type: object
  kind: Pod
  name: qos-demo
  match: {status: {qosClass: Guaranteed}}
- type: object
  kind: Node
  name: ${LAB_WORKER_1}
  match: {spec: {unschedulable: true}}
- type: object
  description: at most two Jobs of the CronJob are left
  kind: Job
  selector: app=tick
  expr: "size(objects) <= 2"
- type: object
  description: one worker is cordoned (later steps call it ${CORDONED})
  kind: Node
  selector: "!node-role.kubernetes.io/control-plane"
  expr: "objects.filter(n, n.spec.?unschedulable.orValue(false)).size() == 1"
  capture:
    CORDONED: "objects.filter(n, n.spec.?unschedulable.orValue(false))[0].metadata.name"`,
		compile: typed(func(p objectParams, _ time.Duration) (Check, error) {
			return newObject(p)
		}),
	}
}

// object: any kind the cluster serves, selected by name or labels, checked
// against a partial object and a CEL expression.
type object struct {
	res      Resource
	name     string
	selector labels.Selector
	selText  string
	count    *int
	match    map[string]any
	expr     *celExpr
	captures []captureExpr
}

func newObject(p objectParams) (Check, error) {
	if err := require("kind", p.Kind); err != nil {
		return nil, err
	}
	if p.Name != "" && p.Selector != "" {
		return nil, fmt.Errorf("set %q or %q, not both", "name", "selector")
	}
	if p.Count != nil && *p.Count < 0 {
		return nil, fmt.Errorf("field %q must not be negative, got %d", "count", *p.Count)
	}
	if p.Match == nil && p.Expr == "" && p.Count == nil && p.Name == "" {
		return nil, fmt.Errorf("say what must hold: %q, %q, %q or at least %q", "match", "expr", "count", "name")
	}
	o := &object{res: Resource{APIVersion: p.APIVersion, Kind: p.Kind, Namespace: p.Namespace}, name: p.Name, count: p.Count, match: p.Match, selText: p.Selector}
	gvk, builtin, err := builtinKind(p.APIVersion, p.Kind)
	if err != nil {
		return nil, err
	}
	if builtin {
		// The lab names a built-in kind: pin its version, so the check
		// reads what the author meant, and catch typos in match now.
		o.res.APIVersion = gvk.GroupVersion().String()
		if err := matchFitsKind(gvk, p.Match); err != nil {
			return nil, err
		}
	}
	o.selector = labels.Everything()
	if p.Selector != "" {
		if o.selector, err = labels.Parse(p.Selector); err != nil {
			return nil, fmt.Errorf("selector %q: %w", p.Selector, err)
		}
	}
	if p.Expr != "" {
		if o.expr, err = compileCEL(p.Expr); err != nil {
			return nil, err
		}
	}
	if o.captures, err = compileCaptures(p.Capture); err != nil {
		return nil, err
	}
	return o, nil
}

// builtinKind finds kind among the kinds client-go knows. An unknown kind
// with an apiVersion of an unknown group is a custom resource, resolved
// against the cluster when the check runs.
func builtinKind(apiVersion, kind string) (schema.GroupVersionKind, bool, error) {
	var gv *schema.GroupVersion
	if apiVersion != "" {
		v, err := schema.ParseGroupVersion(apiVersion)
		if err != nil {
			return schema.GroupVersionKind{}, false, fmt.Errorf("apiVersion %q: %w", apiVersion, err)
		}
		gv = &v
	}
	groupKnown := false
	for _, v := range scheme.Scheme.PrioritizedVersionsAllGroups() {
		if gv != nil && v.Group != gv.Group {
			continue
		}
		groupKnown = true
		if gv != nil && v.Version != gv.Version {
			continue
		}
		if _, ok := scheme.Scheme.KnownTypes(v)[kind]; ok {
			return v.WithKind(kind), true, nil
		}
	}
	switch {
	case gv == nil:
		return schema.GroupVersionKind{}, false, fmt.Errorf("unknown kind %q (a built-in kind such as Pod, Deployment, Node, Job; for a custom resource give its apiVersion)", kind)
	case groupKnown:
		return schema.GroupVersionKind{}, false, fmt.Errorf("unknown kind %q in %s", kind, apiVersion)
	}
	return schema.GroupVersionKind{}, false, nil
}

// matchFitsKind decodes match strictly into the kind's Go type: a field the
// kind does not have is a typo, reported when the lab is read.
func matchFitsKind(gvk schema.GroupVersionKind, match map[string]any) error {
	if match == nil {
		return nil
	}
	obj, err := scheme.Scheme.New(gvk)
	if err != nil {
		return nil
	}
	b, err := json.Marshal(match)
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return fmt.Errorf("match is not a partial %s: %s", gvk.Kind, jsonProblem(err))
	}
	return nil
}

func (c *object) Needs() []Resource { return []Resource{c.res} }

func (c *object) Concern() Concern {
	if c.res.Kind == "Deployment" && c.name != "" {
		return Concern{Deployment: c.name}
	}
	if c.res.Kind == "Pod" && c.selText != "" {
		return Concern{Selector: c.selText}
	}
	return Concern{}
}

func (c *object) what() string {
	switch {
	case c.name != "":
		return c.res.Kind + " " + c.name
	case c.selText != "":
		return c.res.Kind + "s matching " + c.selText
	}
	return "every " + c.res.Kind
}

func (c *object) Expected() string {
	var conds []string
	if c.match != nil {
		conds = append(conds, "has "+describeMatch(c.match))
	}
	if c.expr != nil {
		conds = append(conds, "makes `"+c.expr.src+"` true")
	}
	if len(conds) == 0 {
		conds = append(conds, "exists")
	}
	if c.count != nil {
		return fmt.Sprintf("exactly %d of %s %s", *c.count, c.what(), strings.Join(conds, " and "))
	}
	return fmt.Sprintf("%s %s", c.what(), strings.Join(conds, " and "))
}

// selected are the objects the check is about, sorted by name.
func (c *object) selected(s *State) []*unstructured.Unstructured {
	var sel []*unstructured.Unstructured
	for _, o := range s.Objects(c.res) {
		if c.name != "" && o.GetName() != c.name {
			continue
		}
		if !c.selector.Matches(labels.Set(o.GetLabels())) {
			continue
		}
		sel = append(sel, o)
	}
	sort.Slice(sel, func(i, j int) bool { return sel[i].GetName() < sel[j].GetName() })
	return sel
}

func (c *object) Evaluate(s *State) (bool, string) {
	sel := c.selected(s)
	where := ""
	if c.res.Namespace != "" {
		where = " in namespace " + c.res.Namespace
	}
	if len(sel) == 0 && (c.count == nil || *c.count > 0) {
		return false, fmt.Sprintf("no %s%s", c.what(), where)
	}
	all := make([]any, len(sel))
	for i, o := range sel {
		all[i] = o.Object
	}
	base := baselineValue(s.Baseline)
	good, firstBad := 0, ""
	for _, o := range sel {
		why := c.judgeOne(o, all, base)
		if why == "" {
			good++
		} else if firstBad == "" {
			firstBad = fmt.Sprintf("%s (%s %s)", why, o.GetKind(), o.GetName())
		}
	}
	listOK, listWhy := true, ""
	if c.expr != nil && !c.expr.perObject {
		listOK, listWhy = c.expr.eval(nil, all, base)
	}
	switch {
	case c.count != nil && good != *c.count:
		found := fmt.Sprintf("%d of %d selected %s it", good, len(sel), plural(good, "satisfies", "satisfy"))
		if firstBad != "" {
			found += "; first that does not: " + firstBad
		}
		return false, found
	case c.count == nil && good < len(sel):
		return false, firstBad
	case !listOK:
		return false, fmt.Sprintf("`%s` is %s over %d %s", c.expr.src, listWhy, len(sel), plural(len(sel), c.res.Kind, c.res.Kind+"s"))
	}
	if c.match == nil && (c.expr == nil || !c.expr.perObject) && c.expr != nil {
		return true, fmt.Sprintf("`%s` holds over %d %s", c.expr.src, len(sel), plural(len(sel), c.res.Kind, c.res.Kind+"s"))
	}
	return true, fmt.Sprintf("%d %s %s it", good, plural(good, c.res.Kind, c.res.Kind+"s"), plural(good, "satisfies", "satisfy"))
}

// judgeOne returns "" when o satisfies match and a per-object expr, else
// why not.
func (c *object) judgeOne(o *unstructured.Unstructured, all []any, base map[string]any) string {
	if c.match != nil {
		if d := firstDiff("", c.match, o.Object); d != nil {
			return fmt.Sprintf("%s is %s, not %s", d.path, d.found, describeValue(d.want))
		}
	}
	if c.expr != nil && c.expr.perObject {
		if ok, why := c.expr.eval(o.Object, all, base); !ok {
			return fmt.Sprintf("`%s` is %s", c.expr.src, why)
		}
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// diff is where a partial object and an object first differ.
type diff struct {
	path  string
	found string // what the object holds there
	want  any    // what the partial object asks there
}

// firstDiff reports the first path where got does not contain want (maps as
// subsets, lists element by element, scalars equal); nil when it does.
func firstDiff(path string, want, got any) *diff {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return &diff{orRoot(path), describeValue(got), want}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, present := g[k]
			if !present {
				if w[k] == nil {
					continue // want absent or null
				}
				return &diff{path + "." + k, "absent", w[k]}
			}
			if d := firstDiff(path+"."+k, w[k], gv); d != nil {
				return d
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok {
			return &diff{orRoot(path), describeValue(got), want}
		}
		if len(g) != len(w) {
			return &diff{orRoot(path), fmt.Sprintf("a list of %d", len(g)), want}
		}
		for i := range w {
			if d := firstDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); d != nil {
				return d
			}
		}
		return nil
	}
	if scalarEqual(want, got) {
		return nil
	}
	return &diff{orRoot(path), describeValue(got), want}
}

func orRoot(path string) string {
	if path == "" {
		return "."
	}
	return path
}

// scalarEqual compares YAML scalars with JSON ones: numbers by value (3 and
// 3.0 are one), anything else as is.
func scalarEqual(a, b any) bool {
	fa, aNum := number(a)
	fb, bNum := number(b)
	if aNum || bNum {
		return aNum && bNum && fa == fb
	}
	return fmt.Sprint(a) == fmt.Sprint(b) && (a == nil) == (b == nil)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return math.NaN(), false
}

func describeValue(v any) string {
	switch t := v.(type) {
	case nil:
		return "absent"
	case string:
		return t
	case map[string]any:
		return "a map"
	case []any:
		return fmt.Sprintf("a list of %d", len(t))
	}
	return fmt.Sprint(v)
}

// describeMatch writes a partial object as its leaf paths: .a.b = c.
func describeMatch(m map[string]any) string {
	var parts []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(path+"."+k, t[k])
			}
		case []any:
			for i, e := range t {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		default:
			parts = append(parts, path+" = "+describeValue(v))
		}
	}
	walk("", m)
	if len(parts) > 3 {
		parts = append(parts[:3], fmt.Sprintf("%d more fields", len(parts)-3))
	}
	return strings.Join(parts, ", ")
}

// baselineValue is the baseline as CEL sees it: baseline.pods, a list of
// {name, uid, labels, restarts}.
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
			pods = append(pods, map[string]any{"name": r.Name, "uid": uid, "labels": lbls, "restarts": restarts})
		}
	}
	return map[string]any{"pods": pods}
}

// celExpr is a compiled CEL expression. perObject: it names `object`, so it
// is judged for each selected object; otherwise once over `objects`.
type celExpr struct {
	src       string
	prg       cel.Program
	perObject bool
}

// compileCEL compiles src, which must give true or false.
func compileCEL(src string) (*celExpr, error) {
	prg, perObject, err := compileCELProgram(src, func(t *cel.Type) bool { return t == cel.BoolType || t == cel.DynType }, "true or false")
	if err != nil {
		return nil, fmt.Errorf("expr %w", err)
	}
	return &celExpr{src: src, prg: prg, perObject: perObject}, nil
}

// compileCELProgram compiles src over `objects` and `baseline`, or, when it
// names `object`, over one object too (perObject). Its type must pass ok.
// Evaluation is bounded by a cost limit: an author's expression cannot
// hang a check. Optional fields (`n.spec.?unschedulable.orValue(false)`)
// are allowed: most fields of an object may be absent.
func compileCELProgram(src string, ok func(*cel.Type) bool, want string) (cel.Program, bool, error) {
	listEnv, err := cel.NewEnv(cel.OptionalTypes(), cel.Variable("objects", cel.ListType(cel.DynType)), cel.Variable("baseline", cel.DynType))
	if err != nil {
		return nil, false, err
	}
	env, err := listEnv.Extend(cel.Variable("object", cel.DynType))
	if err != nil {
		return nil, false, err
	}
	perObject := false
	ast, iss := listEnv.Compile(src)
	if iss.Err() != nil {
		perObject = true
		if ast, iss = env.Compile(src); iss.Err() != nil {
			return nil, false, fmt.Errorf("%q does not compile: %s", src, strings.ReplaceAll(iss.Err().Error(), "\n", " "))
		}
	}
	if t := ast.OutputType(); !ok(t) {
		return nil, false, fmt.Errorf("%q gives %s; it must give %s", src, t, want)
	}
	use := listEnv
	if perObject {
		use = env
	}
	prg, err := use.Program(ast, cel.CostLimit(1_000_000), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, false, fmt.Errorf("%q: %w", src, err)
	}
	return prg, perObject, nil
}

// eval returns whether the expression holds and, if not, what it gave.
func (e *celExpr) eval(obj map[string]any, all []any, base map[string]any) (bool, string) {
	vars := map[string]any{"objects": all, "baseline": base}
	if e.perObject {
		vars["object"] = obj
	}
	out, _, err := e.prg.Eval(vars)
	if err != nil {
		return false, "not computable (" + err.Error() + ")"
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Sprintf("%v, not true or false", out.Value())
	}
	if !b {
		return false, "false"
	}
	return true, ""
}
