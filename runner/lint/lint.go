// Package lint is what `labs lint` knows wrong about lab files without a
// cluster: parse errors at their line, checks that do not compile, manifests
// the API server would refuse (schema, Pod Security at the lab's level),
// translations that drift, and a declared scope below what the lab needs.
package lint

import (
	"bufio"
	"bytes"
	"cmp"
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
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"mvdan.cc/sh/v3/syntax"
	"sigs.k8s.io/yaml"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/runner"
	"github.com/labs-dev/labs/runner/images"
)

// File is a lab file to lint: its path (for messages) and its bytes.
type File struct {
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
// the Kubernetes scheme), images labs cannot load, a scope below the least
// the lab needs (or the old field changesNodes), a change to the nodes no
// cleanup block undoes, and translations whose steps, checks or scripts
// differ from their original's.
func Run(files []File) []Problem {
	l := &linter{}
	type parsed struct {
		file File
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
		if id, lang := runner.LabFileLang(p.file.Path); lang == "" {
			originals[filepath.Join(filepath.Dir(p.file.Path), id)] = p
		}
	}
	for _, p := range labs {
		id, lang := runner.LabFileLang(p.file.Path)
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
func (l *linter) file(f File) *content.Lab {
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
	if id, _ := runner.LabFileLang(f.Path); lab.ID != id {
		l.add(f.Path, 2, fmt.Sprintf("lab id %q must match the file name %q", lab.ID, id))
	}
	sc := l.walk(f.Path, lab)
	l.scope(f.Path, lab, sc)
	return lab
}

// walk lints the lab's scripts and manifests, and finds on the way what
// in them needs more than the lab's namespace.
func (l *linter) walk(file string, lab *content.Lab) *labScope {
	sc := &labScope{ns: lab.Namespace, podSecurity: cmp.Or(lab.PodSecurity, "baseline")}
	for _, b := range lab.Setup {
		l.block(file, b, sc)
	}
	sc.cleanup = true
	for _, b := range lab.Cleanup {
		l.block(file, b, sc)
	}
	sc.cleanup = false
	for _, s := range lab.Steps {
		for _, b := range s.Setup {
			l.block(file, b, sc)
		}
		l.script(file, s.SolveLine, s.Solve, sc)
		for i, sp := range s.Checks {
			line := s.Line
			if i < len(s.CheckLines) {
				line = s.CheckLines[i]
			}
			sc.check(line, sp)
			for _, text := range checks.Scripts(sp) { // an availability check's action
				l.script(file, s.Line, text, sc)
			}
		}
	}
	// YAML examples the learner copies; shell examples are not linted:
	// they hold placeholders (<pod>) and output a person reads.
	for _, ex := range lab.Examples {
		switch strings.Fields(ex.Info + " x")[0] {
		case "yaml", "yml":
			if looksLikeManifest(ex.Text) { // not a fragment to merge into one
				l.manifests(file, ex.Line+1, ex.Text, sc)
			}
		}
	}
	return sc
}

func (l *linter) block(file string, b content.Setup, sc *labScope) {
	if b.Script {
		l.script(file, b.Line, b.Text, sc)
		return
	}
	l.manifests(file, b.Line+1, b.Text, sc)
}

// script parses a lab script as sh (POSIX: labs runs them with `sh -e`),
// lints the manifests it feeds to kubectl through heredocs, and notes in
// sc the commands that reach past the lab's namespace.
func (l *linter) script(file string, fence int, text string, sc *labScope) {
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
			sc.command(fence+int(call.Pos().Line()), call)
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
			l.manifests(file, fence+int(r.Hdoc.Pos().Line()), text, sc)
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
// Each object's kind and namespace go to sc.
func (l *linter) manifests(file string, first int, text string, sc *labScope) {
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
		sc.manifest(at, doc)
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
		if why, err := podSecurityRefuses(obj, sc.podSecurity); err != nil {
			l.add(file, at, fmt.Sprintf("manifest %s: %v", tm.Kind, err))
		} else if why != "" {
			l.add(file, at, fmt.Sprintf("manifest %s: Pod Security %s (the lab's podSecurity) refuses its pods: %s; %s", tm.Kind, sc.podSecurity, why, podSecurityLevelFix(sc.podSecurity)))
		}
		for _, img := range imagesOf(obj) {
			if !images.IsWorkload(img) && !strings.Contains(img, checks.PlaceholderValue) { // an expansion: unknown
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

// ReadFiles reads lab files and folders' lab files (*.md but
// README.md, not recursing), as `labs lint` names them, each once; a
// translation's original comes along, to compare it with.
func ReadFiles(paths []string) ([]File, error) {
	var files []File
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
			if id, lang := runner.LabFileLang(n); lang != "" {
				orig := filepath.Join(filepath.Dir(n), id+".md")
				if _, err := os.Stat(orig); err == nil {
					paths = append(paths, orig)
				}
			}
			f, err := os.Open(n)
			if err != nil {
				return nil, fmt.Errorf("lint: %w", err)
			}
			src, err := io.ReadAll(io.LimitReader(f, content.MaxLabSize+1)) // content.Parse refuses a bigger one
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("lint: reading %s: %w", n, err)
			}
			files = append(files, File{Path: n, Src: src})
		}
	}
	return files, nil
}

// A lab's scope (content.ScopeNamespace, ScopeCluster, ScopeNode) says how
// much of the cluster it needs; a shared cluster, where each learner has
// only a namespace, runs only namespace labs. Lint derives the least scope
// from what the lab's checks read, what its scripts run and what its
// manifests create, and says when the declared one is lower.

// scopeNeed is one thing in a lab that needs more than its namespace.
type scopeNeed struct {
	scope string // content.ScopeCluster or content.ScopeNode
	line  int
	why   string // what the line does: "runs `kubectl cordon`"
	// changesNode: it changes a node every lab shares (a cordon, a taint,
	// a memory limit), which the lab's ```cleanup sh block must undo.
	changesNode bool
	cleanup     bool // it is in the cleanup block, which undoes
}

// labScope collects a lab's scope needs while the lab is linted.
type labScope struct {
	ns string // the lab's namespace
	// podSecurity is the level the lab declares its pods pass.
	podSecurity string
	// podless are commands that make pods with no securityContext, which
	// podSecurity restricted refuses.
	podless []scopeNeed
	cleanup bool // the cleanup block is being read
	needs   []scopeNeed
}

func (sc *labScope) add(scope string, line int, changesNode bool, format string, args ...any) {
	sc.needs = append(sc.needs, scopeNeed{scope: scope, line: line, why: fmt.Sprintf(format, args...), changesNode: changesNode, cleanup: sc.cleanup})
}

// own says whether ns is the lab's namespace: "" (the default), its name,
// or an expansion (${LAB_NAMESPACE}, or one that cannot be known without
// a cluster, given the benefit of the doubt).
func (sc *labScope) own(ns string) bool {
	return ns == "" || ns == sc.ns || strings.Contains(ns, "${") || strings.Contains(ns, checks.PlaceholderValue)
}

// least is the least scope the lab needs, and the needs that make it so,
// by line.
func (sc *labScope) least() (string, []scopeNeed) {
	scope, rank := content.ScopeNamespace, 0
	var top []scopeNeed
	for _, n := range sc.needs {
		switch r := content.ScopeRank(n.scope); {
		case r > rank:
			scope, rank, top = n.scope, r, []scopeNeed{n}
		case r == rank && r > 0:
			top = append(top, n)
		}
	}
	sort.SliceStable(top, func(i, j int) bool { return top[i].line < top[j].line })
	return scope, top
}

// scope reports a declared scope below the least the lab needs, the old
// field changesNodes, and a change to the nodes no cleanup block undoes.
func (l *linter) scope(file string, lab *content.Lab, sc *labScope) {
	for _, n := range sc.podless {
		l.add(file, n.line, fmt.Sprintf("it %s, whose pods have no securityContext, and the lab declares podSecurity: restricted, which refuses them; apply a manifest with the securityContext restricted asks for instead", n.why))
	}
	need, why := sc.least()
	because := "nothing it runs, checks or creates reaches past its namespace"
	if len(why) > 0 {
		because = fmt.Sprintf("line %d %s", why[0].line, why[0].why)
		var also []string
		for _, n := range why[1:] {
			if s := strconv.Itoa(n.line); n.line != why[0].line && !slices.Contains(also, s) && len(also) < 3 {
				also = append(also, s)
			}
		}
		switch len(also) {
		case 0:
		case 1:
			because += " (also line " + also[0] + ")"
		default:
			because += " (also lines " + strings.Join(also, ", ") + ")"
		}
	}
	fromOld := lab.ChangesNodesLine > 0 && lab.ScopeLine == lab.ChangesNodesLine
	switch {
	case fromOld:
		l.add(file, lab.ChangesNodesLine, fmt.Sprintf("changesNodes is the old name of scope: write `scope: %s` instead, the least this lab needs: %s", need, because))
	case lab.ChangesNodesLine > 0:
		l.add(file, lab.ChangesNodesLine, "changesNodes is the old name of scope, which this front matter gives: delete it")
	}
	if !fromOld && content.ScopeRank(lab.Scope) < content.ScopeRank(need) {
		declared, line := "scope: "+lab.Scope, lab.ScopeLine
		if line == 0 {
			declared, line = "no scope: in the front matter means scope: namespace", 2
		}
		l.add(file, line, fmt.Sprintf("%s, but %s: declare scope: %s", declared, because, need))
	}
	if len(lab.Cleanup) > 0 {
		return
	}
	for _, n := range sc.needs {
		if n.changesNode && !n.cleanup {
			l.add(file, n.line, fmt.Sprintf("it %s, which changes a node every lab shares, and the lab has no ```cleanup sh block: add one before the first step that undoes it (kubectl uncordon NODE, kubectl taint nodes NODE KEY-, labs node memory NODE --lift); it runs at reset, after labs test and before another lab starts", n.why))
			return
		}
	}
}

// check notes what a check reads beyond the lab's namespace: the node
// itself (checkOnNode), cluster-scoped kinds, other namespaces, and what a
// denied check would send.
func (sc *labScope) check(line int, sp checks.Spec) {
	onNode, known := checkOnNode[sp.Type]
	if !known {
		// A type this table does not know yet (a test keeps it complete):
		// it may read the nodes.
		onNode = func(json.RawMessage) string {
			return fmt.Sprintf("has a `%s` check, which may read the node itself", sp.Type)
		}
	}
	if why := onNode(sp.Params); why != "" {
		sc.add(content.ScopeNode, line, false, "%s", why)
	}
	c, err := checks.Compile(sp)
	if err != nil {
		return
	}
	if st, ok := c.(checks.StateCheck); ok {
		for _, r := range st.Needs() {
			switch {
			case clusterKind(r.APIVersion, r.Kind):
				sc.add(content.ScopeCluster, line, false, "checks a %s (cluster-scoped)", r.Kind)
			case r.Namespace == checks.AllNamespaces:
				sc.add(content.ScopeCluster, line, false, "checks %ss in every namespace (namespace: \"*\")", r.Kind)
			case !sc.own(r.Namespace):
				sc.add(content.ScopeCluster, line, false, "checks %ss in namespace %s", r.Kind, r.Namespace)
			}
		}
	}
	if sp.Type == "denied" {
		var p struct {
			Manifest       json.RawMessage `json:"manifest"`
			ServiceAccount string          `json:"serviceAccount"`
		}
		if json.Unmarshal(sp.Params, &p) != nil {
			return
		}
		if ns, _, ok := strings.Cut(p.ServiceAccount, "/"); ok && !sc.own(ns) {
			sc.add(content.ScopeCluster, line, false, "asks as a ServiceAccount of namespace %s", ns)
		}
		doc := []byte(p.Manifest) // a map: JSON is YAML
		var text string
		if json.Unmarshal(p.Manifest, &text) == nil {
			doc = []byte(text)
		}
		sc.object(line, "has a `denied` check sending", checks.WithPlaceholders(string(doc)))
	}
}

// checkOnNode says, for every check type, why a check of it reads what
// only the node holds (a container's cgroup, process or mounts, through
// labs' own access to the nodes: a checks.NodeProber), or "" when it reads
// through the API server only. A test holds it to checks.Types().
var checkOnNode = map[string]func(params json.RawMessage) string{
	"node": func(json.RawMessage) string {
		return "has a `node` check, which reads the container's cgroup, process and namespaces on its node"
	},
	"cpu-share": func(json.RawMessage) string {
		return "has a `cpu-share` check, which reads the pods' CPU time and weights in their cgroups on the node"
	},
	"answer":               answerOnNode,
	"availability":         throughAPI,
	"denied":               throughAPI,
	"deployment-available": throughAPI,
	"events":               throughAPI,
	"exec":                 throughAPI, // in the container, as kubectl exec
	"http":                 throughAPI, // the API server's proxy
	"logs":                 throughAPI,
	"object":               throughAPI,
	"pod-count":            throughAPI,
	"pod-replaced":         throughAPI,
	"probe":                throughAPI,
	"restarted":            throughAPI,
	"terminated-reason":    throughAPI,
}

func throughAPI(json.RawMessage) string { return "" }

// answerTruthOnNode says, for every truth an answer check knows, whether it
// is read on the node (true) or from the pod's status (false).
var answerTruthOnNode = map[string]bool{
	"pid-on-node":      true,
	"pid-in-container": true,
	"rootfs-type":      true,
	"memory-limit":     true, // the cgroup's
	"oom-first":        true, // oom_score_adj on the node
	"pod-ip":           false,
	"node":             false,
}

func answerOnNode(params json.RawMessage) string {
	var p struct {
		Truth string `json:"truth"`
	}
	_ = json.Unmarshal(params, &p)
	if onNode, known := answerTruthOnNode[p.Truth]; known && !onNode {
		return ""
	}
	return fmt.Sprintf("has an `answer` check whose truth, %s, is read on the node", p.Truth)
}

// manifest notes an object a lab creates that is cluster-scoped or in
// another namespace.
func (sc *labScope) manifest(line int, doc []byte) {
	sc.object(line, "has a manifest of", string(doc))
}

func (sc *labScope) object(line int, what, doc string) {
	var obj struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if yaml.Unmarshal([]byte(doc), &obj) != nil || obj.Kind == "" {
		return // the manifest's own lint says what is wrong
	}
	switch {
	case clusterKind(obj.APIVersion, obj.Kind):
		sc.add(content.ScopeCluster, line, false, "%s a %s (cluster-scoped)", what, obj.Kind)
	case !sc.own(obj.Metadata.Namespace):
		sc.add(content.ScopeCluster, line, false, "%s a %s in namespace %s", what, obj.Kind, obj.Metadata.Namespace)
	}
}

// command notes a script's command that reaches past the lab's namespace:
// `labs node` (the node itself), and kubectl on nodes, cluster-scoped
// kinds or other namespaces.
func (sc *labScope) command(line int, call *syntax.CallExpr) {
	args := make([]string, len(call.Args))
	for i, w := range call.Args {
		args[i] = wordText(w)
	}
	switch {
	case len(args) > 1 && args[0] == "labs" && args[1] == "node":
		sub := "node"
		if len(args) > 2 {
			sub += " " + args[2]
		}
		sc.add(content.ScopeNode, line, sub == "node memory", "runs `labs %s`", sub)
	case len(args) > 1 && args[0] == "labs" && args[1] == "kubectl":
		sc.kubectl(line, args[2:])
	case args[0] == "kubectl":
		sc.kubectl(line, args[1:])
	}
}

// kubectlValueFlags are kubectl flags whose value may be the next word.
var kubectlValueFlags = map[string]bool{
	"-l": true, "--selector": true, "-o": true, "--output": true, "-f": true, "--filename": true,
	"-k": true, "--kustomize": true, "-c": true, "--container": true, "-p": true, "--patch": true,
	"--type": true, "--field-selector": true, "--for": true, "--timeout": true, "--image": true,
	"-L": true, "--label-columns": true, "--sort-by": true, "--template": true, "--from": true,
	"--context": true, "--cluster": true, "--user": true, "--kubeconfig": true, "--as": true,
	"--to-revision": true, "--replicas": true, "--grace-period": true, "--overrides": true,
	"--port": true, "--restart": true, "--env": true, "--labels": true, "--tail": true,
	"--since": true, "--resource": true, "--verb": true, "--serviceaccount": true, "--role": true,
	"--clusterrole": true, "--namespace": true, "-n": true,
}

// kubectlNoTypes are kubectl verbs whose arguments name pods, commands or
// files, never a kind.
var kubectlNoTypes = map[string]bool{
	"exec": true, "run": true, "logs": true, "attach": true, "cp": true, "port-forward": true,
	"auth": true, "explain": true, "api-resources": true, "api-versions": true, "version": true,
	"config": true, "proxy": true, "completion": true, "plugin": true, "kustomize": true,
}

// kubectlChangeVerbs change the objects they name.
var kubectlChangeVerbs = map[string]bool{
	"label": true, "annotate": true, "patch": true, "edit": true, "delete": true, "replace": true,
	"apply": true, "set": true, "scale": true, "taint": true, "cordon": true, "uncordon": true, "drain": true,
}

func (sc *labScope) kubectl(line int, args []string) {
	var pos, namespaces []string
	allNamespaces := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			i = len(args) // what follows runs in a container
		case a == "-A" || a == "--all-namespaces" || a == "--all-namespaces=true":
			allNamespaces = a
		case a == "-n" || a == "--namespace":
			if i+1 < len(args) {
				i++
				namespaces = append(namespaces, args[i])
			}
		case strings.HasPrefix(a, "--namespace="):
			namespaces = append(namespaces, strings.TrimPrefix(a, "--namespace="))
		case strings.HasPrefix(a, "-n") && !strings.HasPrefix(a, "--"):
			namespaces = append(namespaces, strings.TrimPrefix(a[2:], "="))
		case strings.HasPrefix(a, "-"):
			if kubectlValueFlags[a] {
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	verb, shown := "", "" // shown: with its subcommand
	if len(pos) > 0 {
		verb, shown = pos[0], pos[0]
	}
	if (verb == "rollout" || verb == "set") && len(pos) > 1 {
		shown += " " + pos[1]
	}
	if allNamespaces != "" {
		sc.add(content.ScopeCluster, line, false, "runs `kubectl %s %s` (every namespace)", verb, allNamespaces)
	}
	for _, ns := range namespaces {
		if !sc.own(ns) {
			sc.add(content.ScopeCluster, line, false, "runs `kubectl %s -n %s` (another namespace)", verb, ns)
		}
	}
	if sc.podSecurity == "restricted" && (verb == "run" || verb == "create" && len(pos) > 1 && slices.Contains([]string{"deployment", "deploy", "job", "cronjob", "cj"}, pos[1])) {
		sc.podless = append(sc.podless, scopeNeed{line: line, why: "runs `kubectl " + shown + "`"})
	}
	var types []string // TYPE[,TYPE]... or TYPE/NAME
	switch {
	case verb == "cordon" || verb == "uncordon" || verb == "drain":
		sc.add(content.ScopeCluster, line, true, "runs `kubectl %s`", verb)
		return
	case verb == "debug":
		for _, a := range pos[1:] {
			if kind, ok := kubectlClusterKind(a); ok && kind == "Node" {
				sc.add(content.ScopeNode, line, false, "runs `kubectl debug %s` (a pod in the node's namespaces)", a)
				return
			}
		}
	case kubectlNoTypes[verb] || len(pos) < 2:
	case verb == "create": // create TYPE NAME
		types = pos[1:2]
	case verb == "rollout" || verb == "set": // rollout status TYPE/NAME
		if len(pos) > 2 {
			types = pos[2:]
		}
	default:
		types = pos[1:]
	}
	for i, t := range types {
		if i > 0 && !strings.Contains(t, "/") {
			continue // a name, not a kind
		}
		kinds := strings.Split(strings.SplitN(t, "/", 2)[0], ",")
		for _, k := range kinds {
			kind, ok := kubectlClusterKind(k)
			if !ok {
				continue
			}
			changes := kind == "Node" && kubectlChangeVerbs[verb]
			sc.add(content.ScopeCluster, line, changes, "runs `kubectl %s %s`", shown, t)
		}
	}
}

// wordText is a shell word as a command sees it, with a simple expansion
// kept by name ($X and ${X} as ${X}); other expansions are "${?}".
func wordText(w *syntax.Word) string {
	var b strings.Builder
	var parts func(ps []syntax.WordPart)
	parts = func(ps []syntax.WordPart) {
		for _, p := range ps {
			switch t := p.(type) {
			case *syntax.Lit:
				b.WriteString(t.Value)
			case *syntax.SglQuoted:
				b.WriteString(t.Value)
			case *syntax.DblQuoted:
				parts(t.Parts)
			case *syntax.ParamExp:
				if t.Param != nil && t.Exp == nil && t.Repl == nil && t.Index == nil && t.Slice == nil && !t.Length && !t.Excl {
					b.WriteString("${" + t.Param.Value + "}")
				} else {
					b.WriteString("${?}")
				}
			default:
				b.WriteString("${?}")
			}
		}
	}
	parts(w.Parts)
	return b.String()
}

// clusterKinds are the built-in kinds that live outside any namespace, by
// API group, with the names kubectl takes for them.
var clusterKinds = []struct {
	group, kind string
	names       []string // plural, singular, short names
}{
	{"", "Node", []string{"nodes", "node", "no"}},
	{"", "Namespace", []string{"namespaces", "namespace", "ns"}},
	{"", "PersistentVolume", []string{"persistentvolumes", "persistentvolume", "pv"}},
	{"", "ComponentStatus", []string{"componentstatuses", "componentstatus", "cs"}},
	{"rbac.authorization.k8s.io", "ClusterRole", []string{"clusterroles", "clusterrole"}},
	{"rbac.authorization.k8s.io", "ClusterRoleBinding", []string{"clusterrolebindings", "clusterrolebinding"}},
	{"scheduling.k8s.io", "PriorityClass", []string{"priorityclasses", "priorityclass", "pc"}},
	{"storage.k8s.io", "StorageClass", []string{"storageclasses", "storageclass", "sc"}},
	{"storage.k8s.io", "CSIDriver", []string{"csidrivers", "csidriver"}},
	{"storage.k8s.io", "CSINode", []string{"csinodes", "csinode"}},
	{"storage.k8s.io", "VolumeAttachment", []string{"volumeattachments", "volumeattachment"}},
	{"storage.k8s.io", "VolumeAttributesClass", []string{"volumeattributesclasses", "volumeattributesclass", "vac"}},
	{"node.k8s.io", "RuntimeClass", []string{"runtimeclasses", "runtimeclass"}},
	{"networking.k8s.io", "IngressClass", []string{"ingressclasses", "ingressclass"}},
	{"networking.k8s.io", "IPAddress", []string{"ipaddresses", "ipaddress", "ip"}},
	{"networking.k8s.io", "ServiceCIDR", []string{"servicecidrs", "servicecidr"}},
	{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration", []string{"validatingwebhookconfigurations", "validatingwebhookconfiguration"}},
	{"admissionregistration.k8s.io", "MutatingWebhookConfiguration", []string{"mutatingwebhookconfigurations", "mutatingwebhookconfiguration"}},
	{"admissionregistration.k8s.io", "ValidatingAdmissionPolicy", []string{"validatingadmissionpolicies", "validatingadmissionpolicy"}},
	{"admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", []string{"validatingadmissionpolicybindings", "validatingadmissionpolicybinding"}},
	{"admissionregistration.k8s.io", "MutatingAdmissionPolicy", []string{"mutatingadmissionpolicies", "mutatingadmissionpolicy"}},
	{"admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding", []string{"mutatingadmissionpolicybindings", "mutatingadmissionpolicybinding"}},
	{"apiextensions.k8s.io", "CustomResourceDefinition", []string{"customresourcedefinitions", "customresourcedefinition", "crd", "crds"}},
	{"apiregistration.k8s.io", "APIService", []string{"apiservices", "apiservice"}},
	{"certificates.k8s.io", "CertificateSigningRequest", []string{"certificatesigningrequests", "certificatesigningrequest", "csr"}},
	{"certificates.k8s.io", "ClusterTrustBundle", []string{"clustertrustbundles", "clustertrustbundle"}},
	{"flowcontrol.apiserver.k8s.io", "FlowSchema", []string{"flowschemas", "flowschema"}},
	{"flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", []string{"prioritylevelconfigurations", "prioritylevelconfiguration"}},
	{"resource.k8s.io", "DeviceClass", []string{"deviceclasses", "deviceclass"}},
	{"resource.k8s.io", "ResourceSlice", []string{"resourceslices", "resourceslice"}},
	{"storagemigration.k8s.io", "StorageVersionMigration", []string{"storageversionmigrations", "storageversionmigration"}},
	{"internal.apiserver.k8s.io", "StorageVersion", []string{"storageversions", "storageversion"}},
	{"authentication.k8s.io", "TokenReview", []string{"tokenreviews", "tokenreview"}},
	{"authorization.k8s.io", "SubjectAccessReview", []string{"subjectaccessreviews", "subjectaccessreview"}},
}

// clusterKind says whether kind (of apiVersion; "" for the group the
// cluster prefers) is a built-in cluster-scoped kind. A custom resource's
// scope is in its CRD, on the cluster: it counts as namespaced.
func clusterKind(apiVersion, kind string) bool {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		group = "" // v1: the core group
	}
	for _, k := range clusterKinds {
		if k.kind == kind && (apiVersion == "" || k.group == group) {
			return true
		}
	}
	return false
}

// kubectlClusterKind finds the cluster-scoped kind a kubectl resource
// argument names (nodes, ns, clusterroles.rbac.authorization.k8s.io).
func kubectlClusterKind(arg string) (string, bool) {
	name, group, _ := strings.Cut(strings.ToLower(strings.SplitN(arg, "/", 2)[0]), ".")
	for _, k := range clusterKinds {
		if slices.Contains(k.names, name) && (group == "" || strings.HasPrefix(k.group, group)) {
			return k.kind, true
		}
	}
	return "", false
}
