package checks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes/scheme"
)

// AllNamespaces is the `namespace:` that selects objects in every
// namespace ("no pod but DaemonSet pods is left on the node").
const AllNamespaces = "*"

type objectParams struct {
	APIVersion string                `json:"apiVersion,omitempty"`
	Kind       string                `json:"kind"`
	Name       string                `json:"name,omitempty"`
	Selector   string                `json:"selector,omitempty"`
	Namespace  string                `json:"namespace,omitempty"`
	Count      *int                  `json:"count,omitempty"`
	Match      map[string]any        `json:"match,omitempty"`
	Expr       string                `json:"expr,omitempty"`
	With       map[string]withParams `json:"with,omitempty"`
	Capture    map[string]string     `json:"capture,omitempty"`
}

// withParams selects other objects for an expression: by name (the
// variable is that object) or by selector or kind alone (a list).
type withParams struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Name       string `json:"name,omitempty"`
	Selector   string `json:"selector,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
}

// UnmarshalJSON decodes strictly: a misspelt field of a binding is an
// error, as at the top level.
func (w *withParams) UnmarshalJSON(b []byte) error {
	type plain withParams
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("a with: entry takes apiVersion, kind, name, selector and namespace: %s", jsonProblem(err))
	}
	*w = withParams(p)
	return nil
}

func objectType() Type {
	return Type{
		Name:   "object",
		Fields: "`kind` (and `apiVersion` for a custom resource), `name` or `selector` (labels; neither: every object of the kind), `namespace` (default: the lab's; `\"*\"`: every namespace; cluster-scoped kinds have none), `count` (optional), `match` (a partial object), `expr` (optional CEL over `object`, `objects`, `baseline`, `step` and the `with` names, with Kubernetes' CEL libraries), `with` (optional: NAME: `{kind, name or selector, namespace, apiVersion}`, other objects the expression reads: a name gives the object, else a list), `capture` (optional: NAME: a CEL expression giving a string or a number, set when the check passes and usable as ${NAME} in later steps)",
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
    CORDONED: "objects.filter(n, n.spec.?unschedulable.orValue(false))[0].metadata.name"
- type: object
  description: no pod but DaemonSet pods is left on ${LAB_WORKER_2}, in any namespace
  kind: Pod
  namespace: "*"
  count: 0
  expr: >-
    object.spec.?nodeName.orValue('') == '${LAB_WORKER_2}' &&
    !object.metadata.?ownerReferences.orValue([]).exists(o, o.kind == 'DaemonSet')
- type: object
  description: the memory limit is 200Mi however it is written, and fits the node
  kind: Deployment
  name: web
  with:
    node: {kind: Node, name: "${LAB_WORKER_1}"}
  expr: >-
    quantity(object.spec.template.spec.containers[0].resources.limits.memory).compareTo(quantity('200Mi')) == 0 &&
    quantity(object.spec.template.spec.containers[0].resources.limits.memory).isLessThan(quantity(node.status.allocatable.memory))
- type: object
  description: eight pods were made since the step began
  kind: Pod
  selector: app=web
  expr: "objects.filter(p, timestamp(p.metadata.creationTimestamp) >= step.started).size() == 8"`,
		compile: typed(func(p objectParams, _ time.Duration) (Check, error) {
			return newObject(p)
		}),
	}
}

// selection is which objects of a kind a check (or a `with:` binding)
// reads: one by name, those matching a label selector, or all.
type selection struct {
	res      Resource
	name     string
	selector labels.Selector
	selText  string
}

func newSelection(apiVersion, kind, name, selector, namespace string) (selection, error) {
	if err := require("kind", kind); err != nil {
		return selection{}, err
	}
	if name != "" && selector != "" {
		return selection{}, fmt.Errorf("set %q or %q, not both", "name", "selector")
	}
	if err := checkNamespace(namespace); err != nil {
		return selection{}, err
	}
	sel := selection{res: Resource{APIVersion: apiVersion, Kind: kind, Namespace: namespace}, name: name, selText: selector, selector: labels.Everything()}
	gvk, builtin, err := builtinKind(apiVersion, kind)
	if err != nil {
		return selection{}, err
	}
	if builtin {
		// A built-in kind: pin its version, so the check reads what the
		// author meant.
		sel.res.APIVersion = gvk.GroupVersion().String()
	}
	if selector != "" {
		if sel.selector, err = labels.Parse(selector); err != nil {
			return selection{}, fmt.Errorf("selector %q: %w", selector, err)
		}
	}
	return sel, nil
}

// checkNamespace accepts a namespace name, "*" (every namespace), "" (the
// lab's) or one that names a fact (${LAB_NAMESPACE}).
func checkNamespace(ns string) error {
	if ns == "" || ns == AllNamespaces || strings.Contains(ns, "${") {
		return nil
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return fmt.Errorf("namespace %q: %s (or \"*\" for every namespace)", ns, strings.Join(errs, "; "))
	}
	return nil
}

// selected are the objects of s the selection names, sorted by namespace
// and name.
func (sl selection) selected(s *State) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range s.Objects(sl.res) {
		if sl.name != "" && o.GetName() != sl.name {
			continue
		}
		if !sl.selector.Matches(labels.Set(o.GetLabels())) {
			continue
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GetNamespace() != out[j].GetNamespace() {
			return out[i].GetNamespace() < out[j].GetNamespace()
		}
		return out[i].GetName() < out[j].GetName()
	})
	return out
}

func (sl selection) what() string {
	switch {
	case sl.name != "":
		return sl.res.Kind + " " + sl.name
	case sl.selText != "":
		return sl.res.Kind + "s matching " + sl.selText
	}
	return "every " + sl.res.Kind
}

// where says which namespace, when it is not the lab's.
func (sl selection) where() string {
	switch sl.res.Namespace {
	case "":
		return ""
	case AllNamespaces:
		return " in any namespace"
	}
	return " in namespace " + sl.res.Namespace
}

// label names one selected object for a failure: with its namespace when
// the selection spans several.
func (sl selection) label(o *unstructured.Unstructured) string {
	if sl.res.Namespace == AllNamespaces && o.GetNamespace() != "" {
		return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
	}
	return o.GetKind() + " " + o.GetName()
}

// binding is one `with:` entry.
type binding struct {
	name string
	selection
}

// value is what the binding's variable holds in s: the named object, or
// the list of selected ones; missing says why a named one cannot be had.
func (b binding) value(s *State) (v any, missing string) {
	sel := b.selected(s)
	if b.selection.name == "" {
		list := make([]any, len(sel))
		for i, o := range sel {
			list[i] = o.Object
		}
		return list, ""
	}
	switch len(sel) {
	case 0:
		return nil, fmt.Sprintf("no %s%s (with: %s)", b.what(), b.where(), b.name)
	case 1:
		return sel[0].Object, ""
	}
	var where []string
	for _, o := range sel {
		where = append(where, o.GetNamespace())
	}
	return nil, fmt.Sprintf("%d objects are %s (with: %s), in namespaces %s: give its namespace", len(sel), b.what(), b.name, strings.Join(where, ", "))
}

// object: any kind the cluster serves, selected by name or labels, checked
// against a partial object and a CEL expression.
type object struct {
	selection
	count    *int
	match    map[string]any
	expr     *celExpr
	with     []binding
	captures []captureExpr
}

func newObject(p objectParams) (Check, error) {
	if p.Count != nil && *p.Count < 0 {
		return nil, fmt.Errorf("field %q must not be negative, got %d", "count", *p.Count)
	}
	if p.Kind != "" && p.Match == nil && p.Expr == "" && p.Count == nil && p.Name == "" {
		return nil, fmt.Errorf("say what must hold: %q, %q, %q or at least %q", "match", "expr", "count", "name")
	}
	sel, err := newSelection(p.APIVersion, p.Kind, p.Name, p.Selector, p.Namespace)
	if err != nil {
		return nil, err
	}
	o := &object{selection: sel, count: p.Count, match: p.Match}
	if gvk, builtin, _ := builtinKind(p.APIVersion, p.Kind); builtin {
		// Catch typos in match now, not on the cluster.
		if err := matchFitsKind(gvk, p.Match); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(p.With))
	for n := range p.With {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := checkWithName(n); err != nil {
			return nil, err
		}
		w := p.With[n]
		bs, err := newSelection(w.APIVersion, w.Kind, w.Name, w.Selector, w.Namespace)
		if err != nil {
			return nil, fmt.Errorf("with: %s: %w", n, err)
		}
		o.with = append(o.with, binding{name: n, selection: bs})
	}
	if len(names) > 0 && p.Expr == "" && len(p.Capture) == 0 {
		return nil, fmt.Errorf("with: names objects for %q or %q to read: give one", "expr", "capture")
	}
	if p.Expr != "" {
		if o.expr, err = compileCEL(p.Expr, names); err != nil {
			return nil, err
		}
	}
	if o.captures, err = compileCaptures(p.Capture, names); err != nil {
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

func (c *object) Needs() []Resource {
	out := []Resource{c.res}
	for _, b := range c.with {
		out = append(out, b.res)
	}
	return out
}

func (c *object) Concern() Concern {
	if c.res.Namespace != "" {
		return Concern{} // the lab namespace's evidence is not about it
	}
	if c.res.Kind == "Deployment" && c.selection.name != "" {
		return Concern{Deployment: c.selection.name}
	}
	if c.res.Kind == "Pod" && c.selText != "" {
		return Concern{Selector: c.selText}
	}
	return Concern{}
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
		return fmt.Sprintf("exactly %d of %s%s %s", *c.count, c.what(), c.where(), strings.Join(conds, " and "))
	}
	return fmt.Sprintf("%s%s %s", c.what(), c.where(), strings.Join(conds, " and "))
}

// input is what the check's expressions read in s; missing says which
// named `with:` object is absent.
func (c *object) input(s *State, sel []*unstructured.Unstructured) (celInput, string) {
	in := celInput{objects: make([]any, len(sel)), baseline: baselineValue(s.Baseline), step: stepValue(s.Baseline)}
	for i, o := range sel {
		in.objects[i] = o.Object
	}
	if len(c.with) > 0 {
		in.with = make(map[string]any, len(c.with))
		for _, b := range c.with {
			v, missing := b.value(s)
			if missing != "" {
				return in, missing
			}
			in.with[b.name] = v
		}
	}
	return in, ""
}

func (c *object) Evaluate(s *State) (bool, string) {
	sel := c.selected(s)
	if len(sel) == 0 && (c.count == nil || *c.count > 0) {
		return false, fmt.Sprintf("no %s%s", c.what(), c.where())
	}
	in, missing := c.input(s, sel)
	if missing != "" {
		return false, missing
	}
	good, firstGood, firstBad := 0, "", ""
	for _, o := range sel {
		why := c.judgeOne(o, in)
		switch {
		case why == "":
			good++
			if firstGood == "" {
				firstGood = c.label(o)
			}
		case firstBad == "":
			firstBad = fmt.Sprintf("%s (%s)", why, c.label(o))
		}
	}
	listOK, listWhy := true, ""
	if c.expr != nil && !c.expr.perObject {
		listOK, listWhy = c.expr.holds(in)
	}
	kinds := func(n int) string { return plural(n, c.res.Kind, c.res.Kind+"s") }
	switch {
	case c.count != nil && good != *c.count:
		found := fmt.Sprintf("%d of %d selected %s it", good, len(sel), plural(good, "satisfies", "satisfy"))
		// Name what is wrong: one too many that does, or one that does not.
		if good > *c.count {
			found += "; first that does: " + firstGood
		} else if firstBad != "" {
			found += "; first that does not: " + firstBad
		}
		return false, found
	case c.count == nil && good < len(sel):
		return false, firstBad
	case !listOK:
		return false, fmt.Sprintf("`%s` is %s over %d %s", c.expr.src, listWhy, len(sel), kinds(len(sel)))
	}
	if c.match == nil && c.expr != nil && !c.expr.perObject {
		return true, fmt.Sprintf("`%s` holds over %d %s", c.expr.src, len(sel), kinds(len(sel)))
	}
	return true, fmt.Sprintf("%d %s %s it", good, kinds(good), plural(good, "satisfies", "satisfy"))
}

// judgeOne returns "" when o satisfies match and a per-object expr, else
// why not.
func (c *object) judgeOne(o *unstructured.Unstructured, in celInput) string {
	if c.match != nil {
		if d := firstDiff("", c.match, o.Object); d != nil {
			return fmt.Sprintf("%s is %s, not %s", d.path, d.found, describeValue(d.want))
		}
	}
	if c.expr != nil && c.expr.perObject {
		in.object = o.Object
		if ok, why := c.expr.holds(in); !ok {
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
