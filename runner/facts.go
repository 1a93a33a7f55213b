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
	f := map[string]string{"LAB_NAMESPACE": ns}
	names := r.Cluster.NodeNames()
	if len(names) > 0 {
		f["LAB_CONTROL_PLANE"] = names[0]
	}
	for i, n := range names[min(1, len(names)):] {
		f[fmt.Sprintf("LAB_WORKER_%d", i+1)] = n
	}
	return f
}

// stepChecks are step i's checks with the lab's facts filled in.
func (r *Runner) stepChecks(lab *content.Lab, i int, ns string) []checks.Spec {
	vars := r.facts(ns)
	out := make([]checks.Spec, len(lab.Steps[i].Checks))
	for j, s := range lab.Steps[i].Checks {
		out[j] = s.Expand(vars)
	}
	return out
}

// styleFor is the output style with the lab's facts filled into the text.
func (r *Runner) styleFor(ns string) content.Style {
	st := r.Style
	vars := r.facts(ns)
	st.Expand = func(s string) string { return checks.ExpandVars(s, vars) }
	return st
}

// runStepSetup runs step i's own setup, as the step begins.
func (r *Runner) runStepSetup(ctx context.Context, lab *content.Lab, i int, ns string, out io.Writer) error {
	if len(lab.Steps[i].Setup) == 0 {
		return nil
	}
	env, err := r.newScriptEnv(ns)
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
	env, err := r.newScriptEnv(ns)
	if err != nil {
		return err
	}
	defer env.Close()
	return r.runBlocks(ctx, env, lab, lab.Cleanup, "cleanup", out)
}
