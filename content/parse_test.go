package content

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const good = `---
id: demo
title: Demo
summary: A demo lab.
namespace: demo
---

Intro with ` + "`code`" + `.

` + "```setup" + `
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
` + "```" + `

## First step

Do **this**:

- one
- two

` + "```check" + `
- type: pod-count
  selector: app=web
  count: 1
` + "```" + `

` + "```solve" + `
kubectl run web --image=labapp:v1 -l app=web
` + "```" + `

` + "```hint" + `
Use kubectl run.
` + "```" + `

## Second step

` + "```check" + `
- type: deployment-available
  name: web
  replicas: 2
  timeout: 2m
` + "```" + `

` + "```solve" + `
kubectl scale deploy web --replicas=2
` + "```" + `
`

func TestParseGood(t *testing.T) {
	lab, err := Parse("demo.md", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if lab.ID != "demo" || lab.Namespace != "demo" || len(lab.Steps) != 2 {
		t.Fatalf("got id %q ns %q steps %d", lab.ID, lab.Namespace, len(lab.Steps))
	}
	s := lab.Steps[0]
	if s.Title != "First step" || s.Line != 16 || len(s.Checks) != 1 || !strings.Contains(s.Solve, "kubectl run") || s.Hint != "Use kubectl run.\n" {
		t.Errorf("step 1 = %+v", s)
	}
	if len(lab.Setup) != 1 || lab.Setup[0].Script || lab.Setup[0].Line != 10 {
		t.Errorf("setup = %+v", lab.Setup)
	}
	if got := lab.Steps[1].Checks[0].Timeout.Duration.String(); got != "2m0s" {
		t.Errorf("timeout = %s", got)
	}
}

// Malformed files give file:line errors, never a panic.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"no front matter", "# hi\n", "x.md:1: missing front matter"},
		{"unclosed front matter", "---\nid: x\n", "x.md:1: front matter is not closed"},
		{"missing id", "---\ntitle: t\nsummary: s\nnamespace: n\n---\n", `x.md:2: front matter: field "id" is required`},
		{"unknown field", "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\nnamspace: m\n---\n", `unknown field "namspace"`},
		{"no steps", "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\njust text\n", "x.md:7: no steps"},
		{"step without check", "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n\n## A\n\n```solve\ntrue\n```\n", `x.md:8: step "A" has no ` + "```check"},
		{"step without solve", "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n\n## A\n\n```check\n- type: pod-count\n  selector: a=b\n  count: 1\n```\n", `x.md:8: step "A" has no ` + "```solve"},
		{"bad check", "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n\n## A\n\n```check\n- type: nope\n```\n", `x.md:11: check 1: unknown check type "nope"`},
		{"check outside step", "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n\n```check\n- type: nope\n```\n", "x.md:8: a ```check block must be inside a step"},
		{"two checks", "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n## A\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n", "x.md:11: step \"A\" has a second ```check block"},
		{"bad setup arg", "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n```setup bash\n```\n", "x.md:7: ```setup takes no argument"},
		{"cleanup without sh", "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n```cleanup\nkubectl uncordon x\n```\n## A\n", "x.md:7: ```cleanup is a shell script"},
		{"cleanup in a step", "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n## A\n```cleanup sh\ntrue\n```\n", "x.md:8: ```cleanup belongs to the lab"},
		{"changesNodes without cleanup", "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\nchangesNodes: true\n---\n## A\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```solve\ntrue\n```\n", "x.md:6: front matter says changesNodes: true (the old name of scope: cluster): a lab that changes the nodes every lab shares needs a ```cleanup sh block"},
		{"bad id", "---\nid: My Lab\ntitle: t\nsummary: s\nnamespace: n\n---\n", "lower-case"},
		{"oversize", good + strings.Repeat("\n", MaxLabSize+1-len(good)), "x.md:1: file is 524289 bytes, over the limit of 524288 bytes (512 KiB) for a lab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.md", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

// A mistake inside a check block is reported at its own line of the file:
// the entry, or the field, at fault (not the block's fence), and a YAML
// error at the line it names.
func TestCheckErrorsPointAtTheirLine(t *testing.T) {
	lab := func(block string) string {
		return "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n\n## A\n\n```check\n" + block + "```\n```solve\ntrue\n```\n"
	}
	// The block's first line is line 11 of the file.
	tests := []struct{ name, block, want string }{
		{"YAML error", "- type: pod-count\n  selector: a=b\n  count: 1\n- type: object\n  kind: Pod\n    name: x\n", "x.md:16: check block is not valid YAML: yaml: mapping values are not allowed"},
		{"the second entry", "- {type: pod-count, selector: a=b, count: 1}\n- {type: pod-count, selector: a=b, cont: 1}\n", `x.md:12: check 2: pod-count: unknown field "cont"`},
		{"an unknown CEL function", "- type: object\n  kind: Pod\n  description: d\n  expr: \"quantty(objects[0].x) == 1\"\n", "x.md:14: check 1: object: expr \"quantty(objects[0].x) == 1\" does not compile: ERROR: <input>:1:8: undeclared reference to 'quantty'"},
		{"an unknown CEL variable", "- type: object\n  kind: Pod\n  expr: \"size(pods) > 0\"\n", "x.md:13: check 1: object: expr \"size(pods) > 0\" does not compile: ERROR: <input>:1:6: undeclared reference to 'pods'"},
		{"a with: name that clashes", "- type: object\n  kind: Pod\n  expr: \"size(objects) > 0\"\n  with:\n    step: {kind: Node, name: a}\n", `x.md:14: check 1: object: with: name "step" is a variable every expression has`},
		{"a denied manifest that does not decode", "- type: denied\n  reason: quota\n  manifest: |\n    apiVersion: v1\n    kind: Pod\n    metadata: {name: a}\n    spec: {containerz: []}\n", `x.md:13: check 1: denied: manifest: Pod: unknown field "spec.containerz"`},
		{"a logs regex", "- type: logs\n  pod: web\n  match: \"(hello\"\n", `x.md:13: check 1: logs: field "match" is not a regular expression`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.md", []byte(lab(tc.block)))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Parse = %v\nwant an error starting %q", err, tc.want)
			}
		})
	}
}

func TestRenderGolden(t *testing.T) {
	lab, err := Parse("demo.md", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		style Style
	}{{"plain", Style{Width: 40}}, {"color", Style{Color: true, Width: 40}}} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, lab.Intro, tc.style); err != nil {
				t.Fatal(err)
			}
			if err := Render(&b, lab.Steps[0].Prose, tc.style); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "render-"+tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./content -update)", err)
			}
			if b.String() != string(want) {
				t.Errorf("render mismatch\n got: %q\nwant: %q", b.String(), want)
			}
		})
	}
}

func TestWrapKeepsCodeSpansWhole(t *testing.T) {
	src := "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\nRun `labs kubectl get pods -o wide` now and then again and again.\n## A\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```solve\ntrue\n```\n"
	lab, err := Parse("x.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Render(&b, lab.Intro, Style{Width: 20}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "labs kubectl get pods -o wide") || strings.Contains(b.String(), "\x01") {
		t.Errorf("code span was split or kept its glue: %q", b.String())
	}
}

// A setup block inside a step belongs to the step; one before the first
// step to the lab; a cleanup to the lab; an HTML comment is never shown.
func TestStepSetupCleanupAndComments(t *testing.T) {
	src := "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\nscope: cluster\n---\n" +
		"```setup sh\necho lab\n```\n```cleanup sh\nkubectl uncordon ${LAB_WORKER_1}\n```\n" +
		"## A\n\n<!-- author's note: seed 001 -->\n\nDo it on ${LAB_WORKER_1}.\n\n```setup sh\necho step\n```\n" +
		"```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```solve\ntrue\n```\n"
	lab, err := Parse("x.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(lab.Setup) != 1 || !strings.Contains(lab.Setup[0].Text, "lab") || len(lab.Cleanup) != 1 || len(lab.Steps[0].Setup) != 1 || !strings.Contains(lab.Steps[0].Setup[0].Text, "step") {
		t.Errorf("setup %+v, cleanup %+v, step setup %+v", lab.Setup, lab.Cleanup, lab.Steps[0].Setup)
	}
	var b bytes.Buffer
	vars := map[string]string{"LAB_WORKER_1": "labs-worker"}
	if err := Render(&b, lab.Steps[0].Prose, Style{Expand: func(s string) string { return strings.ReplaceAll(s, "${LAB_WORKER_1}", vars["LAB_WORKER_1"]) }}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "author") || !strings.Contains(b.String(), "Do it on labs-worker.") {
		t.Errorf("rendered:\n%s", b.String())
	}
}

// Points per step come from the front matter; others are worth 1; a step
// that does not exist is an error.
func TestParsePoints(t *testing.T) {
	lab := "---\nid: p\ntitle: P\nsummary: s\nnamespace: p\npoints: {2: 3, 1: 0}\n---\n" +
		"## A\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```solve\ntrue\n```\n" +
		"## B\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```solve\ntrue\n```\n" +
		"## C\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```solve\ntrue\n```\n"
	l, err := Parse("p.md", []byte(lab))
	if err != nil {
		t.Fatal(err)
	}
	if got := []int{l.StepPoints(0), l.StepPoints(1), l.StepPoints(2)}; got[0] != 0 || got[1] != 3 || got[2] != 1 {
		t.Fatalf("points = %v, want [0 3 1]", got)
	}
	_, err = Parse("p.md", []byte(strings.Replace(lab, "2: 3", "4: 3", 1)))
	if err == nil || !strings.Contains(err.Error(), "p.md:2: front matter: points: step 4 worth 3: steps are numbered 1 to 3") {
		t.Fatalf("Parse(step 4) = %v", err)
	}
}
