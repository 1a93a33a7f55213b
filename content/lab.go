// Package content reads lab Markdown into a typed model and renders steps for
// the terminal. The format is documented in labs/README.md.
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
	Steps  []Step
}

// Meta is the lab's YAML front matter.
type Meta struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Summary   string `json:"summary"`
	Duration  string `json:"duration,omitempty"`
	Level     string `json:"level,omitempty"`
	Namespace string `json:"namespace"`
}

// Setup is a ```setup block: Kubernetes manifests (the default) or, with
// the info string "setup sh", a shell script.
type Setup struct {
	Script bool
	Text   string
	Line   int
}

// Step is one "## " section.
type Step struct {
	Title  string
	Line   int
	Prose  Prose
	Checks []checks.Spec
	Solve  string
	Hint   string
}

// Prose is the Markdown of a step (or the intro) without its special
// blocks, kept as goldmark nodes over the lab source for rendering.
type Prose struct {
	src   []byte
	nodes []ast.Node
}

// Empty reports whether there is nothing to render.
func (p Prose) Empty() bool { return len(p.nodes) == 0 }
