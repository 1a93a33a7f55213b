package runner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"mvdan.cc/sh/v3/syntax"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/runner/images"
)

// LintFile is a lab file to lint: its path (for messages) and its bytes.
type LintFile struct {
	Path string
	Src  []byte
}

// Problem is one thing wrong with a lab file that is known without a
// cluster.
type Problem struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Msg  string `json:"problem"`
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// Lint finds what can be known wrong about lab files without a cluster:
// the front matter, every check (each compiles), one check and one solve
// per step (content.Parse), every script (sh's grammar: scripts run with
// sh, so bash-only syntax is an error), every manifest (setup blocks,
// examples in the prose, heredocs fed to kubectl; strict decoding against
// the Kubernetes scheme), images labs cannot load, and translations whose
// steps, checks or scripts differ from their original's.
func Lint(files []LintFile) []Problem {
	l := &linter{}
	type parsed struct {
		file LintFile
		lab  *content.Lab
	}
	var labs []parsed
	for _, f := range files {
		lab := l.file(f)
		if lab != nil {
			labs = append(labs, parsed{f, lab})
		}
	}
	// A translation is compared with the original in its folder.
	originals := map[string]parsed{}
	for _, p := range labs {
		if id, lang := LabFileLang(p.file.Path); lang == "" {
			originals[filepath.Join(filepath.Dir(p.file.Path), id)] = p
		}
	}
	for _, p := range labs {
		id, lang := LabFileLang(p.file.Path)
		if lang == "" {
			continue
		}
		orig, ok := originals[filepath.Join(filepath.Dir(p.file.Path), id)]
		if !ok {
			l.add(p.file.Path, 1, fmt.Sprintf("a translation needs its original %s.md beside it (and among the files linted)", id))
			continue
		}
		l.translation(p.file.Path, p.lab, orig.file.Path, orig.lab)
	}
	sort.SliceStable(l.problems, func(i, j int) bool {
		a, b := l.problems[i], l.problems[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return l.problems
}

type linter struct{ problems []Problem }

func (l *linter) add(file string, line int, msg string) {
	l.problems = append(l.problems, Problem{file, line, msg})
}

// file lints one file; it returns the lab when it parses.
func (l *linter) file(f LintFile) *content.Lab {
	lab, err := content.Parse(f.Path, f.Src)
	if err != nil {
		var pe *content.ParseError
		if errors.As(err, &pe) {
			l.add(pe.File, pe.Line, pe.Msg)
		} else {
			l.add(f.Path, 1, err.Error())
		}
		return nil
	}
	if id, _ := LabFileLang(f.Path); lab.ID != id {
		l.add(f.Path, 2, fmt.Sprintf("lab id %q must match the file name %q", lab.ID, id))
	}
	for _, b := range append(append([]content.Setup{}, lab.Setup...), lab.Cleanup...) {
		l.block(f.Path, b)
	}
	for _, s := range lab.Steps {
		for _, b := range s.Setup {
			l.block(f.Path, b)
		}
		l.script(f.Path, s.SolveLine, s.Solve)
		for _, sp := range s.Checks {
			for _, sc := range checks.Scripts(sp) { // an availability check's action
				l.script(f.Path, s.Line, sc)
			}
		}
	}
	// YAML examples the learner copies; shell examples are not linted:
	// they hold placeholders (<pod>) and output a person reads.
	for _, ex := range lab.Examples {
		switch strings.Fields(ex.Info + " x")[0] {
		case "yaml", "yml":
			if looksLikeManifest(ex.Text) { // not a fragment to merge into one
				l.manifests(f.Path, ex.Line+1, ex.Text)
			}
		}
	}
	return lab
}

func (l *linter) block(file string, b content.Setup) {
	if b.Script {
		l.script(file, b.Line, b.Text)
		return
	}
	l.manifests(file, b.Line+1, b.Text)
}

// script parses a lab script as sh (POSIX: labs runs them with `sh -e`)
// and lints the manifests it feeds to kubectl through heredocs.
func (l *linter) script(file string, fence int, text string) {
	f := l.parseScript(file, fence, text, syntax.LangPOSIX)
	if f == nil {
		return
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		if call, ok := n.(*syntax.CallExpr); ok && len(call.Args) > 0 {
			// Words sh parses as commands but only bash runs.
			if name := call.Args[0].Lit(); bashOnly[name] {
				l.add(file, fence+int(call.Pos().Line()), fmt.Sprintf("script (labs runs it with sh): %s is bash, not sh", name))
			}
		}
		r, ok := n.(*syntax.Redirect)
		if !ok || r.Hdoc == nil {
			return true
		}
		var body strings.Builder
		for _, p := range r.Hdoc.Parts {
			if lit, ok := p.(*syntax.Lit); ok {
				body.WriteString(lit.Value)
			} else {
				body.WriteString(checks.PlaceholderValue) // an expansion
			}
		}
		text := body.String()
		if r.Op == syntax.DashHdoc { // <<-: sh strips leading tabs
			lines := strings.Split(text, "\n")
			for i := range lines {
				lines[i] = strings.TrimLeft(lines[i], "\t")
			}
			text = strings.Join(lines, "\n")
		}
		if looksLikeManifest(text) {
			l.manifests(file, fence+int(r.Hdoc.Pos().Line()), text)
		}
		return true
	})
}

func (l *linter) parseScript(file string, fence int, text string, lang syntax.LangVariant) *syntax.File {
	f, err := syntax.NewParser(syntax.Variant(lang)).Parse(strings.NewReader(text), "")
	if err != nil {
		line, msg := 0, err.Error()
		var pe syntax.ParseError
		var le syntax.LangError
		switch {
		case errors.As(err, &pe):
			line, msg = int(pe.Pos.Line()), pe.Text
		case errors.As(err, &le):
			line, msg = int(le.Pos.Line()), le.Feature+": not in "+le.LangUsed.String()
		}
		what := "script"
		if lang == syntax.LangPOSIX {
			what = "script (labs runs it with sh)"
		}
		l.add(file, fence+line, fmt.Sprintf("%s: %s", what, msg))
		return nil
	}
	return f
}

// bashOnly are commands sh (dash, on Debian and Ubuntu) does not have.
var bashOnly = map[string]bool{"[[": true, "source": true, "declare": true, "typeset": true, "let": true, "shopt": true, "pushd": true, "popd": true, "mapfile": true, "readarray": true}

var manifestKeys = regexp.MustCompile(`(?m)^\s*(apiVersion|kind):`)

func looksLikeManifest(s string) bool { return len(manifestKeys.FindAllString(s, 2)) == 2 }

// manifests decodes each YAML document strictly with the Kubernetes scheme:
// an unknown or misspelt field is an error, as `kubectl apply` would say
// only on a cluster. first is the file line of the text's first line.
func (l *linter) manifests(file string, first int, text string) {
	text = checks.WithPlaceholders(text)
	rd := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(text)))
	line := first
	for {
		doc, err := rd.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			l.add(file, line, "manifest: "+err.Error())
			return
		}
		at := line + leadingBlankLines(doc)
		docStart := line
		line += bytes.Count(doc, []byte("\n")) + 1 // and its "---"
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, tm, err := checks.DecodeManifest(doc)
		if err != nil {
			// A YAML error names its line within the document: say the
			// file's.
			n, msg := checks.YAMLErrorLine(err)
			msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
			switch {
			case n > 0:
				l.add(file, docStart+n-1, "manifest: "+msg)
			case tm.Kind != "" && strings.HasPrefix(msg, tm.Kind+": "):
				l.add(file, at, "manifest "+msg)
			default:
				l.add(file, at, "manifest: "+msg)
			}
			continue
		}
		if obj == nil {
			continue // a custom resource (or a CRD): its schema lives in the cluster
		}
		for _, img := range imagesOf(obj) {
			if !slices.Contains(images.Tags(), img) && !strings.Contains(img, checks.PlaceholderValue) { // an expansion: unknown
				l.add(file, at, fmt.Sprintf("manifest %s: image %q is not one labs loads (%s): nothing is pulled, so it would never start; to show a failed pull on purpose, do it in a step (kubectl set image)", tm.Kind, img, strings.Join(images.Tags(), ", ")))
			}
		}
	}
}

func leadingBlankLines(doc []byte) int {
	n := 0
	for _, ln := range strings.Split(string(doc), "\n") {
		if strings.TrimSpace(ln) != "" {
			break
		}
		n++
	}
	return n
}

func stripComments(doc []byte) []byte {
	var out []byte
	for _, ln := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(ln), []byte("#")) {
			out = append(out, ln...)
			out = append(out, '\n')
		}
	}
	return out
}

// imagesOf finds the images of every container list in an object (pods,
// pod templates of workloads, CronJobs' job templates).
func imagesOf(obj runtime.Object) []string {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil
	}
	var m any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, c := range t {
				if k == "containers" || k == "initContainers" {
					if list, ok := c.([]any); ok {
						for _, ct := range list {
							if cm, ok := ct.(map[string]any); ok {
								if img, ok := cm["image"].(string); ok {
									out = append(out, img)
								}
							}
						}
					}
				}
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		}
	}
	walk(m)
	return out
}

// translation checks that only prose differs: the front matter but title
// and summary, the steps, their checks (a check's description may be
// translated), setups and solutions, the lab's setup and cleanup.
func (l *linter) translation(file string, tr *content.Lab, origFile string, orig *content.Lab) {
	base := filepath.Base(origFile)
	tm, om := tr.Meta, orig.Meta
	tm.Title, tm.Summary, om.Title, om.Summary = "", "", "", ""
	if !reflect.DeepEqual(tm, om) {
		l.add(file, 2, fmt.Sprintf("front matter differs from %s in more than title and summary: only prose is translated", base))
	}
	if !sameBlocks(tr.Setup, orig.Setup) || !sameBlocks(tr.Cleanup, orig.Cleanup) {
		l.add(file, 1, fmt.Sprintf("the lab's setup or cleanup differs from %s: only prose is translated", base))
	}
	if len(tr.Steps) != len(orig.Steps) {
		l.add(file, 1, fmt.Sprintf("%d steps, but %s has %d: a translation has the same steps", len(tr.Steps), base, len(orig.Steps)))
		return
	}
	for i := range tr.Steps {
		t, o := tr.Steps[i], orig.Steps[i]
		switch {
		case checksKey(t.Checks) != checksKey(o.Checks):
			l.add(file, t.Line, fmt.Sprintf("step %d: its checks differ from step %d of %s (line %d): only a check's description may be translated", i+1, i+1, base, o.Line))
		case t.Solve != o.Solve:
			l.add(file, t.SolveLine, fmt.Sprintf("step %d: its solution differs from %s line %d", i+1, base, o.SolveLine))
		case !sameBlocks(t.Setup, o.Setup):
			l.add(file, t.Line, fmt.Sprintf("step %d: its setup differs from step %d of %s", i+1, i+1, base))
		}
	}
}

func sameBlocks(a, b []content.Setup) bool {
	return slices.EqualFunc(a, b, func(x, y content.Setup) bool { return x.Script == y.Script && x.Text == y.Text })
}

// checksKey is the checks without their descriptions, as JSON.
func checksKey(specs []checks.Spec) string {
	var parts []string
	for _, s := range specs {
		s.Description = ""
		b, _ := json.Marshal(s)
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "\n")
}

// ReadLintFiles reads lab files and folders' lab files (*.md but
// README.md, not recursing), as `labs lint` names them, each once; a
// translation's original comes along, to compare it with.
func ReadLintFiles(paths []string) ([]LintFile, error) {
	var files []LintFile
	seen := map[string]bool{}
	for i := 0; i < len(paths); i++ {
		p := paths[i]
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("lint: %w", err)
		}
		names := []string{p}
		if fi.IsDir() {
			if names, err = filepath.Glob(filepath.Join(p, "*.md")); err != nil {
				return nil, err
			}
			names = slices.DeleteFunc(names, func(n string) bool { return filepath.Base(n) == "README.md" })
			if len(names) == 0 {
				return nil, fmt.Errorf("lint: no lab files (*.md) in %s", p)
			}
		}
		for _, n := range names {
			if abs, _ := filepath.Abs(n); seen[abs] {
				continue
			} else {
				seen[abs] = true
			}
			if id, lang := LabFileLang(n); lang != "" {
				orig := filepath.Join(filepath.Dir(n), id+".md")
				if _, err := os.Stat(orig); err == nil {
					paths = append(paths, orig)
				}
			}
			f, err := os.Open(n)
			if err != nil {
				return nil, fmt.Errorf("lint: %w", err)
			}
			src, err := readLabBytes(f)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("lint: reading %s: %w", n, err)
			}
			files = append(files, LintFile{Path: n, Src: src})
		}
	}
	return files, nil
}

// GitHubAnnotation is a problem as a GitHub Actions workflow command: the
// run's page shows it on the file's line.
func GitHubAnnotation(level, file string, line int, title, msg string) string {
	esc := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	prop := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
	return fmt.Sprintf("::%s file=%s,line=%d,title=%s::%s", level, prop.Replace(file), line, prop.Replace(title), esc.Replace(msg))
}
