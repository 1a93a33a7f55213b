package lint

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/scheme"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/labs"
)

// builtinLintFiles are the built-in labs as `labs lint labs/` reads them.
func builtinLintFiles(t *testing.T) []File {
	t.Helper()
	names, err := fs.Glob(labs.FS, "*.md")
	if err != nil {
		t.Fatal(err)
	}
	var files []File
	for _, n := range names {
		if n == "README.md" {
			continue
		}
		b, err := fs.ReadFile(labs.FS, n)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, File{Path: "labs/" + n, Src: b})
	}
	return files
}

// Every built-in lab and translation is clean.
func TestBuiltinLabsLint(t *testing.T) {
	for _, p := range Run(builtinLintFiles(t)) {
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
		{"custom resources and CRDs are the cluster's (a CRD is cluster-scoped)", strings.Replace(lab("```setup\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n```\n"+fmtStep("true")), "namespace: demo\n", "namespace: demo\nscope: cluster\n", 1), "", 0},
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
			ps := Run([]File{{Path: "d/demo.md", Src: []byte(c.src)}})
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
			ps := Run([]File{{Path: "d/demo.md", Src: []byte(orig)}, {Path: "d/demo.ko.md", Src: []byte(c.src)}})
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
	ps := Run([]File{{Path: "d/demo.ko.md", Src: []byte(good)}})
	if len(ps) != 1 || !strings.Contains(ps[0].Msg, "needs its original demo.md") {
		t.Fatalf("lone translation: %v", ps)
	}
}

// scopeCase is a lab body (after its front matter) that needs a scope,
// and why: the reason lint names and its line.
type scopeCase struct {
	name, body string
	need       string // the least scope
	why        string // in the message, after "line N "
	line       int    // the line the reason is on
}

// scopeStep is a step of one check block and a solve. After scopeFront
// (lines 1-7), its heading is line 8, its first check line 10 and, with a
// one-line check block, its solve's first line 13.
func scopeStep(check, solve string) string {
	return "## One\n```check\n" + check + "\n```\n```solve\n" + solve + "\n```\n"
}

const podCheck = "- {type: pod-count, selector: app=web, count: 1}"

var scopeCases = []scopeCase{
	{"pods only", scopeStep(podCheck, "kubectl run web --image=labapp:v1 -l app=web\nkubectl get pods -n demo\nkubectl get pods -n \"$LAB_NAMESPACE\"\nkubectl exec web -- ls -A -n nodes\nkubectl logs ns\nkubectl auth can-i get nodes/proxy\nkubectl get nodes.example.com\nkubectl get -L node pods"), content.ScopeNamespace, "", 0},
	{"a node check", scopeStep("- {type: node, pod: web, value: cpu-shares}", "true"), content.ScopeNode, "has a `node` check, which reads the container's cgroup", 10},
	{"a cpu-share check", scopeStep(podCheck+"\n- {type: cpu-share, pods: [a, b]}", "true"), content.ScopeNode, "has a `cpu-share` check", 11},
	{"an answer read on the node", scopeStep("- {type: answer, question: q, truth: pid-on-node, pod: web}", "echo 1 > \"$LAB_ANSWER_FILE\""), content.ScopeNode, "has an `answer` check whose truth, pid-on-node, is read on the node", 10},
	{"an answer read from the pod", scopeStep("- {type: answer, question: q, truth: pod-ip, pod: web}", "echo 1 > \"$LAB_ANSWER_FILE\""), content.ScopeNamespace, "", 0},
	{"labs node in a solve", scopeStep(podCheck, "true\nlabs node exec \"$LAB_WORKER_1\" -- cat /proc/loadavg"), content.ScopeNode, "runs `labs node exec`", 14},
	{"labs node in a command substitution", scopeStep(podCheck, "pid=$(labs node exec n -- pidof x)"), content.ScopeNode, "runs `labs node exec`", 13},
	{"kubectl debug node", scopeStep(podCheck, "kubectl debug node/a -it --image=labapp:v1"), content.ScopeNode, "runs `kubectl debug node/a`", 13},
	{"cordon in a solve", "```cleanup sh\necho undo\n```\n" + scopeStep(podCheck, "kubectl cordon \"$LAB_WORKER_1\""), content.ScopeCluster, "runs `kubectl cordon`", 16},
	{"cordon through labs kubectl", "```cleanup sh\necho undo\n```\n" + scopeStep(podCheck, "labs kubectl drain \"$LAB_WORKER_1\" --ignore-daemonsets"), content.ScopeCluster, "runs `kubectl drain`", 16},
	{"cordon in the cleanup", "```cleanup sh\nkubectl uncordon \"$LAB_WORKER_1\"\n```\n" + scopeStep(podCheck, "true"), content.ScopeCluster, "runs `kubectl uncordon`", 9},
	{"get nodes in a step's setup", "## One\n```setup sh\nkubectl get nodes -o wide\n```\n```check\n" + podCheck + "\n```\n```solve\ntrue\n```\n", content.ScopeCluster, "runs `kubectl get nodes`", 10},
	{"a node by TYPE/NAME", scopeStep(podCheck, "kubectl wait --for=condition=Ready node/a pod/b"), content.ScopeCluster, "runs `kubectl wait node/a`", 13},
	{"every namespace in a script", scopeStep(podCheck, "kubectl get pods -A"), content.ScopeCluster, "runs `kubectl get -A` (every namespace)", 13},
	{"another namespace in a script", scopeStep(podCheck, "kubectl -n kube-system get pods"), content.ScopeCluster, "runs `kubectl get -n kube-system` (another namespace)", 13},
	{"a cluster-scoped kind with its group", scopeStep(podCheck, "kubectl get clusterroles.rbac.authorization.k8s.io"), content.ScopeCluster, "runs `kubectl get clusterroles.rbac.authorization.k8s.io`", 13},
	{"a cluster-scoped kind after a subcommand", scopeStep(podCheck, "kubectl set subject clusterrolebinding admins --user=a"), content.ScopeCluster, "runs `kubectl set subject clusterrolebinding`", 13},
	{"a cluster-scoped kind in a script", scopeStep(podCheck, "kubectl create clusterrole reader --verb=get --resource=pods"), content.ScopeCluster, "runs `kubectl create clusterrole`", 13},
	{`namespace: "*"`, scopeStep("- {type: object, kind: Pod, namespace: \"*\", selector: app=web, count: 1}", "true"), content.ScopeCluster, `checks Pods in every namespace (namespace: "*")`, 10},
	{"events of another namespace", scopeStep("- {type: events, reason: NodeNotSchedulable, namespace: default}", "true"), content.ScopeCluster, "checks Events in namespace default", 10},
	{"a Node object check", scopeStep(podCheck+"\n- {type: object, kind: Node, name: \"${LAB_WORKER_1}\"}", "true"), content.ScopeCluster, "checks a Node (cluster-scoped)", 11},
	{"a Node bound with with:", scopeStep("- type: object\n  kind: Pod\n  expr: \"size(objects) > 0 && has(node.spec)\"\n  with:\n    node: {kind: Node, name: a}", "true"), content.ScopeCluster, "checks a Node (cluster-scoped)", 10},
	{"a ClusterRole manifest", "```setup\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\n```\n" + scopeStep(podCheck, "true"), content.ScopeCluster, "has a manifest of a ClusterRole (cluster-scoped)", 9},
	{"a PriorityClass in a heredoc", scopeStep(podCheck, "kubectl apply -f - <<'YAML'\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high}\nvalue: 1000\nYAML"), content.ScopeCluster, "has a manifest of a PriorityClass (cluster-scoped)", 14},
	{"a CRD", "```setup\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n```\n" + scopeStep(podCheck, "true"), content.ScopeCluster, "has a manifest of a CustomResourceDefinition (cluster-scoped)", 9},
	{"another namespace in a manifest", "```setup\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: other}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: demo}\n```\n" + scopeStep(podCheck, "true"), content.ScopeCluster, "has a manifest of a ConfigMap in namespace other", 9},
	{"the lab's namespace in manifests", "```setup\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: \"${LAB_NAMESPACE}\"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: demo}\n```\n" + scopeStep(podCheck, "true"), content.ScopeNamespace, "", 0},
	{"a Namespace in a YAML example", "```yaml\napiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n```\n" + scopeStep(podCheck, "true"), content.ScopeCluster, "has a manifest of a Namespace (cluster-scoped)", 9},
	{"a denied check sending a cluster-scoped object", scopeStep("- type: denied\n  reason: forbidden\n  manifest: |\n    apiVersion: rbac.authorization.k8s.io/v1\n    kind: ClusterRole\n    metadata: {name: r}", "true"), content.ScopeCluster, "has a `denied` check sending a ClusterRole (cluster-scoped)", 10},
	{"a denied check as another namespace's account", scopeStep("- type: denied\n  reason: forbidden\n  serviceAccount: kube-system/default\n  manifest: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}", "true"), content.ScopeCluster, "asks as a ServiceAccount of namespace kube-system", 10},
	{"an availability action on nodes", scopeStep("- {type: availability, target: web, min: 100, during: \"kubectl get nodes\"}", "true"), content.ScopeCluster, "runs `kubectl get nodes`", 9},
}

// scopeFront is a lab's front matter with a scope line (or none, for "").
func scopeFront(scope string) string {
	line := "level: x\n" // keeps the lines of a file the same
	if scope != "" {
		line = "scope: " + scope + "\n"
	}
	return "---\nid: demo\ntitle: Demo\nsummary: s\nnamespace: demo\n" + line + "---\n"
}

// Lint derives the least scope a lab needs: declared lower, it is an error
// at the scope: line naming the reason and its line; declared as needed,
// or higher, there is nothing to say.
func TestLintScope(t *testing.T) {
	for _, c := range scopeCases {
		for _, declared := range []string{"", content.ScopeNamespace, content.ScopeCluster, content.ScopeNode} {
			t.Run(c.name+"/declared "+declared, func(t *testing.T) {
				src := scopeFront(declared) + c.body
				ps := Run([]File{{Path: "d/demo.md", Src: []byte(src)}})
				eff := declared
				if eff == "" {
					eff = content.ScopeNamespace
				}
				if content.ScopeRank(eff) >= content.ScopeRank(c.need) {
					if len(ps) != 0 {
						t.Fatalf("lab:\n%s\nproblems = %v; want none (it needs scope %s)", src, ps, c.need)
					}
					return
				}
				say, at := "scope: "+declared, 6
				if declared == "" {
					say, at = "no scope: in the front matter means scope: namespace", 2 // the front matter's first line
				}
				want := fmt.Sprintf("%s, but line %d %s", say, c.line, c.why)
				end := "declare scope: " + c.need
				if len(ps) != 1 || ps[0].File != "d/demo.md" || ps[0].Line != at || !strings.HasPrefix(ps[0].Msg, want) || !strings.HasSuffix(ps[0].Msg, end) {
					t.Fatalf("lab:\n%s\nproblems = %v\nwant one at d/demo.md:%d starting %q and ending %q", src, ps, at, want, end)
				}
			})
		}
	}
}

// A change to a node every lab shares needs a cleanup block that undoes
// it; reading a node does not.
func TestLintNodeChangesNeedCleanup(t *testing.T) {
	cases := []struct {
		name, scope, body string
		line              int // of the problem; 0: none
	}{
		{"cordon", "cluster", scopeStep(podCheck, "kubectl cordon a"), 13},
		{"taint", "cluster", scopeStep(podCheck, "true\nkubectl taint nodes a k=v:NoSchedule"), 14},
		{"label a node", "cluster", scopeStep(podCheck, "kubectl label node a disk=ssd"), 13},
		{"annotate a node by TYPE/NAME", "cluster", scopeStep(podCheck, "kubectl annotate node/a note=x"), 13},
		{"a node's memory", "node", scopeStep(podCheck, "labs node memory a 1Gi"), 13},
		{"in an availability action", "cluster", scopeStep("- {type: availability, target: web, min: 100, during: \"kubectl drain a\"}", "true"), 9},
		{"with a cleanup", "cluster", "```cleanup sh\nkubectl uncordon a\n```\n" + scopeStep(podCheck, "kubectl cordon a"), 0},
		{"reading nodes", "cluster", scopeStep(podCheck, "kubectl get nodes\nkubectl describe node a"), 0},
		{"a command on a node", "node", scopeStep(podCheck, "labs node exec a -- cat /proc/loadavg"), 0},
		{"labeling pods", "namespace", scopeStep(podCheck, "kubectl label pods web node=a"), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := scopeFront(c.scope) + c.body
			ps := Run([]File{{Path: "d/demo.md", Src: []byte(src)}})
			if c.line == 0 {
				if len(ps) != 0 {
					t.Fatalf("lab:\n%s\nproblems = %v; want none", src, ps)
				}
				return
			}
			if len(ps) != 1 || ps[0].Line != c.line || !strings.Contains(ps[0].Msg, "which changes a node every lab shares, and the lab has no ```cleanup sh block: add one before the first step that undoes it") {
				t.Fatalf("lab:\n%s\nproblems = %v; want one at line %d asking for a cleanup block", src, ps, c.line)
			}
		})
	}
}

// The old field changesNodes still parses; lint says what to write.
func TestLintChangesNodes(t *testing.T) {
	front := func(fields string) string {
		return "---\nid: demo\ntitle: Demo\nsummary: s\nnamespace: demo\n" + fields + "---\n```cleanup sh\nkubectl uncordon a\n```\n"
	}
	cases := []struct{ name, src, want string }{
		{"a cluster lab", front("changesNodes: true\n") + scopeStep(podCheck, "kubectl cordon a"), "changesNodes is the old name of scope: write `scope: cluster` instead, the least this lab needs: line 9 runs `kubectl uncordon` (also line 16)"},
		{"a node lab", front("changesNodes: true\n") + scopeStep(podCheck, "labs node memory a 1Gi"), "changesNodes is the old name of scope: write `scope: node` instead, the least this lab needs: line 16 runs `labs node memory`"},
		{"changesNodes: false", "---\nid: demo\ntitle: Demo\nsummary: s\nnamespace: demo\nchangesNodes: false\n---\n" + scopeStep(podCheck, "true"), "changesNodes is the old name of scope: write `scope: namespace` instead, the least this lab needs: nothing it runs, checks or creates reaches past its namespace"},
		{"beside scope", front("changesNodes: true\nscope: cluster\n") + scopeStep(podCheck, "kubectl cordon a"), "changesNodes is the old name of scope, which this front matter gives: delete it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := Run([]File{{Path: "d/demo.md", Src: []byte(c.src)}})
			if len(ps) != 1 || ps[0].Line != 6 || ps[0].Msg != c.want {
				t.Fatalf("lab:\n%s\nproblems = %v\nwant one at line 6: %q", c.src, ps, c.want)
			}
		})
	}
}

// Every built-in lab declares exactly the least scope it needs (no more:
// a shared cluster could run it), the same in its translation.
func TestBuiltinLabScopes(t *testing.T) {
	want := map[string]string{
		"selfhealing": content.ScopeNamespace, "rollouts": content.ScopeNamespace, "zerodowntime": content.ScopeNamespace, "operations": content.ScopeNamespace,
		"nodes": content.ScopeCluster, "resources": content.ScopeNode, "containers": content.ScopeNode,
	}
	seen := map[string]bool{}
	for _, f := range builtinLintFiles(t) {
		lab, err := content.Parse(f.Path, f.Src)
		if err != nil {
			t.Fatal(err)
		}
		seen[lab.ID] = true
		need, why := (&linter{}).walk(f.Path, lab).least()
		if lab.ScopeLine == 0 || lab.Scope != need || lab.Scope != want[lab.ID] {
			t.Errorf("%s: declares scope %q (line %d), needs %q (%v), want %q declared", f.Path, lab.Scope, lab.ScopeLine, need, why, want[lab.ID])
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("built-in lab %s not found", id)
		}
	}
}

// Every check type says whether it reads the node, so a new type cannot
// slip past the scope lint; so does every truth of an answer check.
func TestCheckScopesCoverEveryType(t *testing.T) {
	var types []string
	for name := range checkOnNode {
		types = append(types, name)
	}
	sort.Strings(types)
	if got, want := strings.Join(types, " "), strings.Join(checks.TypeNames(), " "); got != want {
		t.Errorf("checkOnNode classifies %s\nthe check types are  %s", got, want)
	}
	for _, ty := range checks.Types() {
		if ty.Name != "answer" {
			continue
		}
		_, list, _ := strings.Cut(ty.Fields, "`truth`: ")
		list, _, _ = strings.Cut(list, ";")
		var truths []string
		for _, tr := range strings.Split(list, ",") {
			truths = append(truths, strings.TrimSpace(tr))
		}
		var known []string
		for tr := range answerTruthOnNode {
			known = append(known, tr)
		}
		sort.Strings(truths)
		sort.Strings(known)
		if strings.Join(known, " ") != strings.Join(truths, " ") || len(truths) < 2 {
			t.Errorf("answerTruthOnNode knows %v; the answer check's truths are %v (from %q)", known, truths, ty.Fields)
		}
	}
}

// The cluster-scoped kinds are spelt as the API serves them.
func TestClusterKindsAreKinds(t *testing.T) {
	names := map[string]string{}
	for _, k := range clusterKinds {
		switch k.group {
		case "apiextensions.k8s.io", "apiregistration.k8s.io": // not in client-go's scheme
		default:
			found := false
			for gvk := range scheme.Scheme.AllKnownTypes() {
				found = found || gvk.Group == k.group && gvk.Kind == k.kind
			}
			if !found {
				t.Errorf("%s in group %q is not a kind client-go knows", k.kind, k.group)
			}
		}
		for _, n := range k.names {
			if prev, dup := names[n]; dup {
				t.Errorf("kubectl name %q is both %s and %s", n, prev, k.kind)
			}
			names[n] = k.kind
		}
		if _, ok := kubectlClusterKind(k.names[0]); !ok || !clusterKind("", k.kind) {
			t.Errorf("%s is not found by its kind or its kubectl name %q", k.kind, k.names[0])
		}
	}
	for _, c := range []struct{ apiVersion, kind string }{{"v1", "Pod"}, {"apps/v1", "Deployment"}, {"v1", "Event"}, {"example.com/v1", "Node"}, {"rbac.authorization.k8s.io/v1", "Role"}} {
		if clusterKind(c.apiVersion, c.kind) {
			t.Errorf("clusterKind(%q, %q) = true, want false", c.apiVersion, c.kind)
		}
	}
}

// podSecurity is proved by the API server's own Pod Security checks at
// lint time: a restricted lab whose pod lacks the securityContext (or whose
// solution runs `kubectl run`) is an error at its line; the same pod with
// it, or the lab at baseline, is fine.
func TestLintPodSecurity(t *testing.T) {
	front := func(level string) string {
		return "---\nid: demo\ntitle: Demo\nsummary: s\nnamespace: demo\npodSecurity: " + level + "\n---\n"
	}
	pod := func(sc string) string {
		return "\n## One\n\n```yaml\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: labapp:v1\n" + sc +
			"```\n\n```check\n- type: pod-count\n  selector: app=x\n  count: 1\n```\n\n```solve\nkubectl apply -f - <<EOF\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: labapp:v1\n" + sc + "EOF\n```\n"
	}
	restrictedSC := "    securityContext:\n      runAsNonRoot: true\n      allowPrivilegeEscalation: false\n      capabilities: {drop: [ALL]}\n      seccompProfile: {type: RuntimeDefault}\n"
	privileged := "    securityContext: {privileged: true}\n"
	for _, tc := range []struct {
		name, src string
		want      []string // substrings, one problem each
	}{
		{"restricted without securityContext", front("restricted") + pod(""), []string{"Pod Security restricted (the lab's podSecurity) refuses its pods: allowPrivilegeEscalation != false", "Pod Security restricted"}},
		{"restricted with it", front("restricted") + pod(restrictedSC), nil},
		{"baseline without it", front("baseline") + pod(""), nil},
		{"baseline privileged", front("baseline") + pod(privileged), []string{"Pod Security baseline (the lab's podSecurity) refuses its pods: privileged", "declare podSecurity: privileged"}},
		{"privileged", front("privileged") + pod(privileged), nil},
		{"restricted kubectl run", front("restricted") + strings.Replace(pod(restrictedSC), "kubectl apply -f - <<EOF", "kubectl run q --image=labapp:v1\nkubectl apply -f - <<EOF", 1), []string{"runs `kubectl run`, whose pods have no securityContext"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := Run([]File{{Path: "demo.md", Src: []byte(tc.src)}})
			if len(ps) != len(tc.want) {
				t.Fatalf("problems = %v, want %d", ps, len(tc.want))
			}
			for _, w := range tc.want {
				found := false
				for _, p := range ps {
					found = found || strings.Contains(p.Msg, w)
				}
				if !found {
					t.Errorf("problems = %v, want one saying %q", ps, w)
				}
			}
		})
	}
}
