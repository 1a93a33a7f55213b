package runner

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/labs-dev/labs/labs"
)

// builtinLintFiles are the built-in labs as `labs lint labs/` reads them.
func builtinLintFiles(t *testing.T) []LintFile {
	t.Helper()
	names, err := fs.Glob(labs.FS, "*.md")
	if err != nil {
		t.Fatal(err)
	}
	var files []LintFile
	for _, n := range names {
		if n == "README.md" {
			continue
		}
		b, err := fs.ReadFile(labs.FS, n)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, LintFile{Path: "labs/" + n, Src: b})
	}
	return files
}

// Every built-in lab and translation is clean.
func TestBuiltinLabsLint(t *testing.T) {
	for _, p := range Lint(builtinLintFiles(t)) {
		t.Error(p)
	}
}

// Each kind of problem is found, at its line, and a clean file has none.
func TestLintFindsProblems(t *testing.T) {
	lab := func(body string) string {
		return "---\nid: demo\ntitle: Demo\nsummary: s\nnamespace: demo\n---\n" + body
	}
	step := "## One\n```check\n- {type: pod-count, selector: app=web, count: 1}\n```\n```solve\n%s\n```\n"
	fmtStep := func(solve string) string { return strings.Replace(step, "%s", solve, 1) }
	cases := []struct {
		name, src, want string
		line            int
	}{
		{"clean", lab(fmtStep("kubectl get pods")), "", 0},
		{"bash in a solve", lab(fmtStep("true\npods=(a b)")), "script (labs runs it with sh): arrays: not in posix", 13},
		{"[[ parses in sh but runs only in bash", lab(fmtStep("if [[ -n x ]]; then true; fi")), "[[ is bash, not sh", 12},
		{"custom resources and CRDs are the cluster's", lab("```setup\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n```\n" + fmtStep("true")), "", 0},
		{"<<- heredoc and an image with an expansion", lab(fmtStep("\tkubectl apply -f - <<-YAML\n\tapiVersion: v1\n\tkind: Pod\n\tmetadata: {name: p}\n\tspec: {containers: [{name: c, image: \"labapp:${TAG}\"}]}\n\tYAML")), "", 0},
		{"an availability check's action", lab("## One\n```check\n- {type: availability, target: web, min: 100, during: \"declare x=1\"}\n```\n```solve\ntrue\n```\n"), "declare is bash, not sh", 8},
		{"unclosed quote", lab(fmtStep("echo 'oops")), "without closing quote", 12},
		{"misspelt field in setup", lab("```setup\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: labapp:v1, imagePullPolcy: Never}]\n```\n" + fmtStep("true")), `unknown field "spec.containers[0].imagePullPolcy"`, 8},
		{"second document", lab("```setup\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndatta: {}\n```\n" + fmtStep("true")), `unknown field "datta"`, 12},
		{"image not loaded", lab("```yaml\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: nginx:1.25}]}\n```\n" + fmtStep("true")), `image "nginx:1.25" is not one labs loads`, 8},
		{"heredoc manifest", lab(fmtStep("kubectl apply -f - <<'YAML'\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec: {replica: 2}\nYAML")), `manifest Deployment: unknown field "spec.replica"`, 13},
		{"unknown built-in kind", lab("```setup\napiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: w}\n```\n" + fmtStep("true")), `no kind "Deploymnet"`, 8},
		{"bad check", lab("## One\n```check\n- {type: pod-count, selector: app=web, cont: 1}\n```\n```solve\ntrue\n```\n"), `unknown field "cont"`, 9},
		{"YAML error in a setup block, at its own line", lab("```setup\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n data: {}\n```\n" + fmtStep("true")), "manifest: yaml: did not find expected key", 11},
		{"no solve", lab("## One\n```check\n- {type: pod-count, selector: app=web, count: 1}\n```\n"), "no ```solve block", 7},
		{"front matter", "---\nid: demo\ntitle: Demo\n---\n## x\n", `field "summary" is required`, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := Lint([]LintFile{{Path: "d/demo.md", Src: []byte(c.src)}})
			if c.want == "" {
				if len(ps) != 0 {
					t.Fatalf("problems in a clean lab: %v", ps)
				}
				return
			}
			if len(ps) != 1 || !strings.Contains(ps[0].Msg, c.want) || ps[0].Line != c.line || ps[0].File != "d/demo.md" {
				t.Fatalf("problems = %v; want one at d/demo.md:%d saying %q", ps, c.line, c.want)
			}
		})
	}
}

// A translation may change prose, titles and check descriptions; not its
// steps, checks or scripts.
func TestLintTranslations(t *testing.T) {
	orig := "---\nid: demo\ntitle: Demo\nsummary: s\nnamespace: demo\n---\nIntro.\n## One\nDo it.\n```check\n- {type: pod-count, description: one pod, selector: app=web, count: 1}\n```\n```solve\nkubectl run web --image=labapp:v1\n```\n"
	good := strings.NewReplacer("title: Demo", "title: 데모", "Intro.", "소개.", "## One", "## 하나", "Do it.", "하세요.", "one pod", "파드 하나").Replace(orig)
	for name, c := range map[string]struct{ src, want string }{
		"prose only":        {good, ""},
		"check changed":     {strings.Replace(good, "count: 1", "count: 2", 1), "step 1: its checks differ"},
		"solution changed":  {strings.Replace(good, "labapp:v1", "labapp:v2", 1), "step 1: its solution differs from demo.md line 13"},
		"namespace changed": {strings.Replace(good, "namespace: demo", "namespace: demo-ko", 1), "front matter differs"},
		"step missing":      {good[:strings.Index(good, "## ")] + "## 하나\n```check\n- {type: pod-count, selector: app=web, count: 1}\n```\n```solve\ntrue\n```\n## 둘\n```check\n- {type: pod-count, selector: app=web, count: 1}\n```\n```solve\ntrue\n```\n", "2 steps, but demo.md has 1"},
	} {
		t.Run(name, func(t *testing.T) {
			ps := Lint([]LintFile{{Path: "d/demo.md", Src: []byte(orig)}, {Path: "d/demo.ko.md", Src: []byte(c.src)}})
			if c.want == "" {
				if len(ps) != 0 {
					t.Fatalf("problems: %v", ps)
				}
				return
			}
			if len(ps) != 1 || !strings.Contains(ps[0].Msg, c.want) || ps[0].File != "d/demo.ko.md" {
				t.Fatalf("problems = %v; want one in d/demo.ko.md saying %q", ps, c.want)
			}
		})
	}
	ps := Lint([]LintFile{{Path: "d/demo.ko.md", Src: []byte(good)}})
	if len(ps) != 1 || !strings.Contains(ps[0].Msg, "needs its original demo.md") {
		t.Fatalf("lone translation: %v", ps)
	}
}
