// Package checks turns the declarative check blocks of a lab into evaluations
// against the live cluster. Specs are data (parsed from lab Markdown); a Check
// is a compiled spec that judges a State snapshot; the Engine feeds it fresh
// snapshots from informers until it holds or times out. Each check type is
// one file: its parameters, decoded strictly on their own, its documentation
// and its evaluation.
package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	yaml3 "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/labs-dev/labs/assets/labapp/loadreport"
)

// DefaultTimeout is how long a check may take to hold once a learner asks.
const DefaultTimeout = 60 * time.Second

// Spec is one entry of a lab's ```check block: the fields every check has,
// and the type's own parameters, kept raw until the type decodes them
// strictly (a field of another type is an error, not silently ignored).
type Spec struct {
	Type        string
	Description string
	// Timeout bounds the wait (or, for an active check, the action); nil
	// means DefaultTimeout.
	Timeout *Duration
	// Params are the type's own fields, as JSON.
	Params json.RawMessage
}

// UnmarshalJSON splits the common fields from the type's parameters.
func (s *Spec) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return errors.New("a check is a map with a type and its fields (type: ...)")
	}
	take := func(key string, dst any) error {
		raw, ok := m[key]
		if !ok {
			return nil
		}
		delete(m, key)
		if err := json.Unmarshal(raw, dst); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				te.Field = key
				return te
			}
			return fmt.Errorf("field %q: %s", key, jsonProblem(err))
		}
		return nil
	}
	*s = Spec{}
	if err := take("type", &s.Type); err != nil {
		return err
	}
	if err := take("description", &s.Description); err != nil {
		return err
	}
	if err := take("timeout", &s.Timeout); err != nil {
		return err
	}
	params, err := json.Marshal(m)
	if err != nil {
		return err
	}
	s.Params = params
	return nil
}

// MarshalJSON writes the spec back as one map.
func (s Spec) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if len(s.Params) > 0 {
		if err := json.Unmarshal(s.Params, &m); err != nil {
			return nil, err
		}
	}
	m["type"] = s.Type
	if s.Description != "" {
		m["description"] = s.Description
	}
	if s.Timeout != nil {
		m["timeout"] = s.Timeout
	}
	return json.Marshal(m)
}

// Expand returns the spec with ${NAME} in its description and parameters
// replaced by vars[NAME]: a check can name "the first worker", whose name
// differs between clusters.
func (s Spec) Expand(vars map[string]string) Spec {
	s.Description = ExpandVars(s.Description, vars)
	if len(s.Params) > 0 {
		escaped := make(map[string]string, len(vars))
		for k, v := range vars {
			b, _ := json.Marshal(v)
			escaped[k] = strings.Trim(string(b), `"`) // for inside a JSON string
		}
		s.Params = json.RawMessage(ExpandVars(string(s.Params), escaped))
	}
	return s
}

// ExpandVars replaces ${NAME} by vars[NAME] for the names vars has; every
// other $ is left alone (a regex's $, a shell's $HOME).
func ExpandVars(s string, vars map[string]string) string {
	if len(vars) == 0 || !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		v, ok := vars[s[i+2:i+j]]
		if !ok {
			b.WriteString(s[:i+j+1])
			s = s[i+j+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// Duration reads "90s" or "2m" in YAML.
type Duration struct{ time.Duration }

// UnmarshalJSON accepts a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as 30s or 2m, not %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q: want a duration such as 30s or 2m", s)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration back as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.Duration.String() + `"`), nil
}

// SpecError is what is wrong in a check block, and where: Line is the
// 1-based line within the block (0 when no line can be told), so the lab
// parser can point at the file's line.
type SpecError struct {
	Line int
	Msg  string
}

func (e *SpecError) Error() string { return e.Msg }

// yamlLine finds "yaml: line N: " in a YAML library's error.
var yamlLine = regexp.MustCompile(`yaml: line (\d+): `)

// YAMLErrorLine splits a YAML error into the 1-based line it names
// within its document (0 if none) and the message without it.
func YAMLErrorLine(err error) (int, string) {
	msg := err.Error()
	m := yamlLine.FindStringSubmatchIndex(msg)
	if m == nil {
		return 0, msg
	}
	n, _ := strconv.Atoi(msg[m[2]:m[3]])
	return n, msg[:m[0]] + "yaml: " + msg[m[1]:]
}

// ParseSpecs decodes a check block and compiles every check in it, so a
// bad one is an error now, not on the cluster. Errors are *SpecError: they
// name the entry (1-based) and the line of the entry, or of its field, at
// fault.
func ParseSpecs(src []byte) ([]Spec, error) {
	specs, at, err := decodeSpecs(src)
	if err != nil {
		return nil, err
	}
	active := 0
	for i, s := range specs {
		c, err := Compile(s)
		if err != nil {
			return nil, at(i, err)
		}
		if _, ok := c.(ActiveCheck); ok {
			active++
			// Each active check runs its action: two would run two actions
			// (two rollouts) at once and measure neither.
			if active > 1 {
				return nil, at(i, fmt.Errorf("a step may have one %s check (it runs its action once); split the measurement into two steps", s.Type))
			}
		}
	}
	return specs, nil
}

// DecodeSpecs decodes a check block without compiling its checks: for
// labs built into the binary, which `make test` lints, so a command such
// as `labs list` does not compile every CEL expression of every lab.
// Engine.Run still compiles each check before it runs.
func DecodeSpecs(src []byte) ([]Spec, error) {
	specs, _, err := decodeSpecs(src)
	return specs, err
}

// decodeSpecs decodes a check block; at places an error at entry i.
func decodeSpecs(src []byte) ([]Spec, func(int, error) error, error) {
	js, err := yaml.YAMLToJSONStrict(src)
	if err != nil {
		line, msg := YAMLErrorLine(err)
		return nil, nil, &SpecError{line, "check block is not valid YAML: " + strings.TrimPrefix(msg, "error converting YAML to JSON: ")}
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(js, &entries); err != nil || bytes.Equal(bytes.TrimSpace(js), []byte("null")) && len(bytes.TrimSpace(src)) > 0 {
		return nil, nil, &SpecError{1, "check block is not a YAML list of checks (each entry starts with \"- type: ...\")"}
	}
	if len(entries) == 0 {
		return nil, nil, &SpecError{1, "check block is empty: list at least one check"}
	}
	// Lines are found (a second YAML parse) only for an error.
	at := func(i int, err error) error {
		msg := err.Error()
		return &SpecError{entryLines(src).of(i, msg), fmt.Sprintf("check %d: %s", i+1, msg)}
	}
	specs := make([]Spec, len(entries))
	for i, e := range entries {
		if err := json.Unmarshal(e, &specs[i]); err != nil {
			return nil, nil, at(i, errors.New(jsonProblem(err)))
		}
	}
	return specs, at, nil
}

// specLines are where each entry of a check block starts, and where its
// fields are (1-based lines of the block).
type specLines struct {
	entry  []int
	fields []map[string]int
}

func entryLines(src []byte) specLines {
	var doc yaml3.Node
	var out specLines
	if yaml3.Unmarshal(src, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml3.SequenceNode {
		return out
	}
	for _, item := range doc.Content[0].Content {
		out.entry = append(out.entry, item.Line)
		fields := map[string]int{}
		if item.Kind == yaml3.MappingNode {
			for k := 0; k+1 < len(item.Content); k += 2 {
				fields[item.Content[k].Value] = item.Content[k].Line
			}
		}
		out.fields = append(out.fields, fields)
	}
	return out
}

// of is the line of entry i that msg is about: the field it names, else
// the entry's first line.
func (l specLines) of(i int, msg string) int {
	if i >= len(l.entry) {
		return 0
	}
	_, rest, _ := strings.Cut(msg, ": ") // after the type's name
	best, bestAt := l.entry[i], len(msg)+1
	for f, line := range l.fields[i] {
		for _, cue := range []string{`"` + f + `"`, f + " ", f + ":"} {
			at := strings.Index(msg, cue)
			if strings.HasPrefix(rest, cue) {
				at = 0
			}
			if at >= 0 && at < bestAt {
				best, bestAt = line, at
			}
		}
	}
	return best
}

// Compile validates a spec and returns the check it describes.
func Compile(s Spec) (Check, error) {
	t, ok := typeByName(s.Type)
	if !ok {
		if s.Type == "" {
			return nil, fmt.Errorf("field \"type\" is required (known: %s)", strings.Join(TypeNames(), ", "))
		}
		return nil, fmt.Errorf("unknown check type %q (known: %s)", s.Type, strings.Join(TypeNames(), ", "))
	}
	if s.Timeout != nil && s.Timeout.Duration <= 0 {
		return nil, fmt.Errorf("%s: timeout %s must be positive (leave it out for the default %s)", s.Type, s.Timeout.Duration, DefaultTimeout)
	}
	c, err := t.compile(s.Params, TimeoutOf(s))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Type, err)
	}
	return c, nil
}

// TimeoutOf is the spec's timeout, or the default.
func TimeoutOf(s Spec) time.Duration {
	if s.Timeout != nil && s.Timeout.Duration > 0 {
		return s.Timeout.Duration
	}
	return DefaultTimeout
}

// Type is one check type: its name, a sentence on when it passes (the
// reference in docs/authoring.md), and how its parameters become a Check.
type Type struct {
	Name string
	// Fields lists the parameters, "?" marking optional ones.
	Fields string
	// Passes says when a check of this type passes.
	Passes string
	// Example is a check block using the type, for the reference.
	Example string
	compile func(params []byte, timeout time.Duration) (Check, error)
}

// Types lists every check type, sorted by name.
func Types() []Type {
	ts := []Type{
		deploymentAvailableType(),
		podCountType(),
		podReplacedType(),
		restartedType(),
		terminatedReasonType(),
		probeType(),
		availabilityType(),
		objectType(),
		eventsType(),
		execType(),
		httpType(),
		nodeType(),
		answerType(),
		cpuShareType(),
		deniedType(),
		logsType(),
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	return ts
}

func typeByName(name string) (Type, bool) {
	for _, t := range Types() {
		if t.Name == name {
			return t, true
		}
	}
	return Type{}, false
}

// TypeNames lists the check types, sorted, for error messages and docs.
func TypeNames() []string {
	var names []string
	for _, t := range Types() {
		names = append(names, t.Name)
	}
	return names
}

// typed adapts a type's build function over its own parameter struct P,
// decoded strictly: a field P does not have is an error that lists the
// fields it does have.
func typed[P any](build func(p P, timeout time.Duration) (Check, error)) func([]byte, time.Duration) (Check, error) {
	return func(raw []byte, timeout time.Duration) (Check, error) {
		var p P
		if len(raw) > 0 {
			// Keys must match exactly: encoding/json alone would take
			// "Count" for count, silently.
			var keys map[string]json.RawMessage
			if err := json.Unmarshal(raw, &keys); err != nil {
				return nil, errors.New(jsonProblem(err))
			}
			known := fieldNames(p)
			var unknown []string
			for k := range keys {
				if !slices.Contains(known, k) {
					unknown = append(unknown, strconv.Quote(k))
				}
			}
			if len(unknown) > 0 {
				sort.Strings(unknown)
				what := "field"
				if len(unknown) > 1 {
					what = "fields"
				}
				return nil, fmt.Errorf("unknown %s %s (this type takes: %s)", what, strings.Join(unknown, ", "), strings.Join(known, ", "))
			}
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, errors.New(jsonProblem(err))
			}
		}
		return build(p, timeout)
	}
}

// jsonProblem says what is wrong with a value in an author's words, not in
// Go's ("cannot unmarshal number 1.5 into Go struct field ...").
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := map[reflect.Kind]string{
			reflect.Int: "a whole number", reflect.Int32: "a whole number", reflect.Int64: "a whole number",
			reflect.Float64: "a number", reflect.String: "text", reflect.Bool: "true or false",
			reflect.Map: "a map", reflect.Struct: "a map", reflect.Slice: "a list",
		}[te.Type.Kind()]
		if want == "" {
			want = te.Type.String()
		}
		if te.Field == "" {
			return fmt.Sprintf("want %s, not %s", want, te.Value)
		}
		return fmt.Sprintf("field %q must be %s, not %s", te.Field, want, te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// fieldNames are the JSON names of a parameter struct's fields, plus the
// common ones.
func fieldNames(p any) []string {
	names := []string{"type", "description", "timeout"}
	t := reflect.TypeOf(p)
	for i := 0; i < t.NumField(); i++ {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); n != "" && n != "-" {
			names = append(names, n)
		}
	}
	return names
}

func require(field, value string) error {
	if value == "" {
		return fmt.Errorf("field %q is required", field)
	}
	return nil
}

func requireSelector(s string) error {
	if err := require("selector", s); err != nil {
		return err
	}
	if _, err := labels.Parse(s); err != nil {
		return fmt.Errorf("selector %q: %w", s, err)
	}
	return nil
}

// nonNegative rejects counts that can never be observed.
func nonNegative[N int | int32](field string, v *N) error {
	if v == nil {
		return fmt.Errorf("field %q is required", field)
	}
	if *v < 0 {
		return fmt.Errorf("field %q must not be negative, got %d", field, *v)
	}
	return nil
}

// finiteRate rejects request rates the load generator cannot pace.
func finiteRate(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > MaxRate {
		return fmt.Errorf("field %q must be between 0 (unpaced) and %d requests per second, got %g", field, MaxRate, v)
	}
	return nil
}

// MaxRate is the highest request rate a load may be paced at.
const MaxRate = loadreport.MaxRate

// ReferenceTable is the check types as docs/authoring.md shows them: a table,
// then an example of each (a test keeps the file in step with the code).
func ReferenceTable() string {
	var b strings.Builder
	b.WriteString("| type | fields | passes when |\n|---|---|---|\n")
	for _, t := range Types() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", t.Name, t.Fields, t.Passes)
	}
	b.WriteString("\nExamples:\n")
	for _, t := range Types() {
		fmt.Fprintf(&b, "\n`%s`:\n\n```yaml\n%s\n```\n", t.Name, t.Example)
	}
	return b.String()
}
