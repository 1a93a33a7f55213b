// Package content reads lab Markdown into a typed model and renders steps for
// the terminal. The format is documented in docs/authoring.md.
package content

import (
	"github.com/labs-dev/labs/checks"
	"github.com/yuin/goldmark/ast"
)

// Lab is one parsed lab file.
type Lab struct {
	Meta
	Source string  // file name, for messages
	Intro  Prose   // what comes before the first step
	Setup  []Setup // run at start and at reset, in order
	// Cleanup undoes what the lab changed outside its namespace (taints,
	// cordons): run at reset, after `labs test`, and before another lab
	// starts.
	Cleanup []Setup
	Steps   []Step
	// Examples are the fenced code blocks of the prose (a manifest or a
	// command a learner copies), for `labs lint`.
	Examples []Example
	// Captures maps each name a check captures (`capture:`) to the step
	// (0-based) whose check sets it; later steps use it as ${NAME}.
	Captures map[string]int
	// ScopeLine is the front matter's line that sets Scope (`scope:`, or
	// the old `changesNodes:`), where `labs lint` says the lab needs more;
	// 0 when none does and Scope is the default.
	ScopeLine int
	// ChangesNodesLine is the line of the old field `changesNodes:`, 0
	// when the file has none: `labs lint` says what to write instead.
	ChangesNodesLine int
}

// Meta is the lab's YAML front matter.
type Meta struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Summary   string `json:"summary"`
	Duration  string `json:"duration,omitempty"`
	Level     string `json:"level,omitempty"`
	Namespace string `json:"namespace"`
	// Scope is how much of the cluster the lab needs: ScopeNamespace,
	// ScopeCluster or ScopeNode, always one of them once parsed (a file
	// that names none gets ScopeNamespace; `labs lint` says when the lab
	// needs more).
	Scope string `json:"scope,omitempty"`
	// Points a step is worth in `labs grade`, by step number (1-based);
	// a step not named is worth 1.
	Points map[int]int `json:"points,omitempty"`
	// PodSecurity is the Pod Security Standard a grading namespace
	// enforces (`labs grade`): baseline unless the lab needs more
	// (privileged, for a hostNetwork pod).
	PodSecurity string `json:"podSecurity,omitempty"`
}

// The scopes a lab declares in its front matter (`scope:`), from the least
// to the most of the cluster it needs. A class on a shared cluster, where
// each learner has only a namespace, runs only ScopeNamespace labs.
const (
	// ScopeNamespace: everything the lab does and checks stays in its own
	// namespace; it reads nothing outside it either.
	ScopeNamespace = "namespace"
	// ScopeCluster: the lab reads or changes cluster-scoped objects
	// (Nodes, a ClusterRole, a PriorityClass) or other namespaces.
	ScopeCluster = "cluster"
	// ScopeNode: the lab needs the nodes themselves (`labs node`, checks
	// that read a container's cgroup or process on its node).
	ScopeNode = "node"
)

// ScopeRank orders scopes by how much of the cluster they need:
// ScopeNamespace 0, ScopeCluster 1, ScopeNode 2; -1 for anything else. A
// lab of scope a runs where scope b is granted when
// ScopeRank(a) <= ScopeRank(b).
func ScopeRank(s string) int {
	switch s {
	case ScopeNamespace:
		return 0
	case ScopeCluster:
		return 1
	case ScopeNode:
		return 2
	}
	return -1
}

// StepPoints is what step i (0-based) is worth in `labs grade`.
func (l *Lab) StepPoints(i int) int {
	if p, ok := l.Points[i+1]; ok {
		return p
	}
	return 1
}

// Setup is a ```setup block (before the first step: the lab's, run at
// start and reset; inside a step: run when the step begins), Kubernetes
// manifests or, with "setup sh", a shell script; or a ```cleanup sh block.
type Setup struct {
	Script bool
	Text   string
	Line   int
}

// Example is a fenced code block of the prose: Info is its language
// ("yaml", "sh"), Line the line of its opening fence.
type Example struct {
	Info string
	Text string
	Line int
}

// Step is one "## " section.
type Step struct {
	Title  string
	Line   int
	Prose  Prose
	Setup  []Setup // run when the step begins
	Checks []checks.Spec
	Solve  string
	Hint   string
	// CheckLines are the lines of the file where each of Checks starts
	// (its entry in the ```check block), for lint's messages; nil when
	// parsed by ParseLinted.
	CheckLines []int
	// SolveLine is the line of the ```solve fence, for messages.
	SolveLine int
}

// Prose is the Markdown of a step (or the intro) without its special
// blocks, kept as goldmark nodes over the lab source for rendering.
type Prose struct {
	src   []byte
	nodes []ast.Node
}

// Empty reports whether there is nothing to render.
func (p Prose) Empty() bool { return len(p.nodes) == 0 }
