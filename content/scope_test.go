package content

import (
	"strings"
	"testing"
)

// scopeLab is a one-step lab whose front matter ends with fields (each a
// line, from line 6); cleanup is a ```cleanup sh block's script or "".
func scopeLab(fields, cleanup string) string {
	src := "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n" + fields + "---\n"
	if cleanup != "" {
		src += "```cleanup sh\n" + cleanup + "\n```\n"
	}
	return src + "## A\n```check\n- {type: pod-count, selector: a=b, count: 1}\n```\n```solve\ntrue\n```\n"
}

// Scope is always one of the three once parsed: the declared one, cluster
// for the old changesNodes: true, else namespace; ScopeLine and
// ChangesNodesLine say where the front matter set it.
func TestParseScope(t *testing.T) {
	tests := []struct {
		name, fields, cleanup string
		scope                 string
		scopeLine, oldLine    int
	}{
		{"namespace", "scope: namespace\n", "", ScopeNamespace, 6, 0},
		{"cluster", "scope: cluster\n", "", ScopeCluster, 6, 0},
		{"node", "scope: node\n", "", ScopeNode, 6, 0},
		{"after other fields", "level: x\npodSecurity: privileged\nscope: node\n", "", ScopeNode, 8, 0},
		{"default", "", "", ScopeNamespace, 0, 0},
		{"changesNodes: true is cluster", "changesNodes: true\n", "kubectl uncordon a", ScopeCluster, 6, 6},
		{"changesNodes: false is namespace", "changesNodes: false\n", "", ScopeNamespace, 6, 6},
		{"changesNodes on two lines, fields after it kept", "changesNodes:\n  true\nlevel: deep\n", "kubectl uncordon a", ScopeCluster, 6, 6},
		{"scope wins over changesNodes", "changesNodes: true\nscope: node\n", "labs node memory a --lift", ScopeNode, 7, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := scopeLab(tc.fields, tc.cleanup)
			lab, err := Parse("x.md", []byte(src))
			if err != nil {
				t.Fatalf("Parse(%q) = %v", src, err)
			}
			if lab.Scope != tc.scope || lab.ScopeLine != tc.scopeLine || lab.ChangesNodesLine != tc.oldLine {
				t.Errorf("Parse(%q): scope %q at line %d, changesNodes at line %d; want %q at %d, %d", src, lab.Scope, lab.ScopeLine, lab.ChangesNodesLine, tc.scope, tc.scopeLine, tc.oldLine)
			}
			if tc.name == "changesNodes on two lines, fields after it kept" && lab.Level != "deep" {
				t.Errorf("Parse(%q): level %q, want deep", src, lab.Level)
			}
		})
	}
}

func TestParseScopeErrors(t *testing.T) {
	tests := []struct{ name, fields, cleanup, want string }{
		{"unknown scope", "scope: cluser\n", "", `x.md:6: front matter: scope "cluser": it is namespace (the default: the lab stays in its namespace), cluster (it reads or changes cluster-scoped objects or other namespaces) or node (it needs the nodes themselves)`},
		{"scope is lower case", "level: x\nscope: Node\n", "", `x.md:7: front matter: scope "Node": it is namespace`},
		{"changesNodes not a boolean", "changesNodes: nodes\n", "", `x.md:6: front matter: changesNodes: want true or false, not "nodes"`},
		{"other unknown fields still are", "changesNodes: true\nchangesNode: true\n", "true", `x.md:2: front matter: error unmarshaling JSON: while decoding JSON: json: unknown field "changesNode"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := scopeLab(tc.fields, tc.cleanup)
			_, err := Parse("x.md", []byte(src))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Parse(%q) = %v\nwant an error starting %q", src, err, tc.want)
			}
		})
	}
}

func TestScopeRank(t *testing.T) {
	for _, tc := range []struct {
		scope string
		want  int
	}{{ScopeNamespace, 0}, {ScopeCluster, 1}, {ScopeNode, 2}, {"", -1}, {"Node", -1}, {"nodes", -1}} {
		if got := ScopeRank(tc.scope); got != tc.want {
			t.Errorf("ScopeRank(%q) = %d, want %d", tc.scope, got, tc.want)
		}
	}
}

// Each check of a block is placed at its own entry's line, block style or
// flow style.
func TestCheckLines(t *testing.T) {
	src := "---\nid: x\ntitle: t\nsummary: s\nnamespace: n\n---\n## A\n```check\n" +
		"- type: pod-count\n  selector: a=b\n  count: 1\n" + // line 9
		"# a comment\n" +
		"- {type: pod-count, selector: c=d, count: 2}\n" + // line 13
		"```\n```solve\ntrue\n```\n"
	lab, err := Parse("x.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := lab.Steps[0].CheckLines; len(got) != 2 || got[0] != 9 || got[1] != 13 {
		t.Fatalf("CheckLines = %v, want [9 13]", got)
	}
}
