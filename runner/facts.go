package runner

import (
	"context"
	"fmt"
	"io"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
)

// facts are what a lab may name as ${NAME} in its text, checks and scripts
// (scripts also get them as environment variables): things that differ
// between clusters, such as the nodes' names (labs-worker here,
// labs-e2e-worker in the tests).
func (r *Runner) facts(ns string) map[string]string {
	f := r.target().Facts()
	f["LAB_NAMESPACE"] = ns
	return f
}

// vars are what ${NAME} stands for in a lab: its facts, and the values
// the checks of earlier steps captured (progress keeps them).
func (r *Runner) vars(ns string, captured map[string]string) map[string]string {
	v := r.facts(ns)
	for k, x := range captured {
		v[k] = x
	}
	return v
}

// stepChecks are step i's checks with the lab's facts and captured values
// filled in.
func (r *Runner) stepChecks(lab *content.Lab, i int, ns string, captured map[string]string) []checks.Spec {
	vars := r.vars(ns, captured)
	out := make([]checks.Spec, len(lab.Steps[i].Checks))
	for j, s := range lab.Steps[i].Checks {
		out[j] = s.Expand(vars)
	}
	return out
}

// styleFor is the output style with the lab's facts and captured values
// filled into the text; a value not captured yet (the learner skipped the
// step that captures it) reads as what it will be.
func (r *Runner) styleFor(lab *content.Lab, ns string, captured map[string]string) content.Style {
	st := r.Style
	vars := r.vars(ns, captured)
	for name, step := range lab.Captures {
		if _, ok := vars[name]; !ok {
			vars[name] = fmt.Sprintf("<%s: known once step %d passes>", name, step+1)
		}
	}
	st.Expand = func(s string) string { return checks.ExpandVars(s, vars) }
	return st
}

// runStepSetup runs step i's own setup, as the step begins.
func (r *Runner) runStepSetup(ctx context.Context, lab *content.Lab, i int, ns string, captured map[string]string, out io.Writer) error {
	if len(lab.Steps[i].Setup) == 0 {
		return nil
	}
	env, err := r.newScriptEnv(ns, captured)
	if err != nil {
		return err
	}
	defer env.Close()
	return r.runBlocks(ctx, env, lab, lab.Steps[i].Setup, fmt.Sprintf("step %d setup", i+1), out)
}

// cleanup runs the lab's cleanup: what it changed outside its namespace
// (a cordoned node, a taint) is undone.
func (r *Runner) cleanup(ctx context.Context, lab *content.Lab, ns string, out io.Writer) error {
	if len(lab.Cleanup) == 0 {
		return nil
	}
	r.Display.Status(fmt.Sprintf("cleaning up after %s", lab.ID))
	// Facts only: cleanup undoes everything the lab may have changed,
	// whatever the learner chose.
	env, err := r.newScriptEnv(ns, nil)
	if err != nil {
		return err
	}
	defer env.Close()
	return r.runBlocks(ctx, env, lab, lab.Cleanup, "cleanup", out)
}
