package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
)

// TestOptions tune `labs test`.
type TestOptions struct {
	JUnitFile     string
	KeepOnFailure bool
	JSON          bool
	SolveTimeout  time.Duration
	ScriptOutput  io.Writer // where setup and solution output goes
	// Parallel is how many labs of scope namespace run at once (each has
	// its own namespace, as learners of a class do); labs that reach into
	// the nodes or the cluster run alone, after them. 0 or 1: one by one.
	Parallel int
}

// StepResult is how one step fared in `labs test`.
type StepResult struct {
	Step         int     `json:"step"`
	Title        string  `json:"title"`
	FailedBefore bool    `json:"failed_before"`
	PassedAfter  bool    `json:"passed_after"`
	Seconds      float64 `json:"seconds"`
	// Failure says which expectation did not hold (the lab content is wrong).
	Failure string `json:"failure,omitempty"`
	// Error says what broke (a script failed, the cluster did not answer).
	Error string `json:"error,omitempty"`
	// Before and After are each check's verdict before and after the
	// solution, as expected/found sentences.
	Before []string `json:"before,omitempty"`
	After  []string `json:"after,omitempty"`
}

// OK reports whether the step behaved as content CI demands.
func (s StepResult) OK() bool { return s.Failure == "" && s.Error == "" }

// LabResult is one lab's run in `labs test`.
type LabResult struct {
	Lab       string       `json:"lab"`
	Namespace string       `json:"namespace"`
	Steps     []StepResult `json:"steps"`
	Seconds   float64      `json:"seconds"`
	Error     string       `json:"error,omitempty"` // the lab could not be run at all
	Kept      bool         `json:"kept,omitempty"`
}

// ErrTestFailed is returned when any step failed or errored.
var ErrTestFailed = errors.New("lab test failed")

// Test runs each lab's content test on a fresh namespace: for every step the
// checks must fail before the reference solution runs and pass after it.
func (r *Runner) Test(ctx context.Context, names []string, opts TestOptions) error {
	if err := r.onKind("`labs test` (it makes and deletes namespaces of its own)"); err != nil {
		return err
	}
	var labs []*content.Lab
	for _, n := range names {
		l, err := r.Catalog.Find(n)
		if err != nil {
			return err
		}
		labs = append(labs, l)
	}
	if opts.SolveTimeout == 0 {
		opts.SolveTimeout = solveTimeout
	}
	if opts.ScriptOutput == nil {
		opts.ScriptOutput = io.Discard
	}
	c, err := r.ensureCluster(ctx)
	if err != nil {
		// CI still gets a report: every lab errored, and why.
		if opts.JUnitFile != "" {
			var results []LabResult
			for _, l := range labs {
				results = append(results, LabResult{Lab: l.ID, Error: "cluster: " + err.Error()})
			}
			if jerr := writeJUnit(opts.JUnitFile, results); jerr != nil {
				return fmt.Errorf("%w (and %v)", err, jerr)
			}
		}
		return err
	}
	results := r.testLabs(ctx, c, labs, opts)
	passed, failed := 0, 0
	for _, lr := range results {
		if lr.Error != "" {
			failed++
		}
		for _, s := range lr.Steps {
			if s.OK() {
				passed++
			} else {
				failed++
			}
		}
	}
	if opts.JUnitFile != "" {
		if err := writeJUnit(opts.JUnitFile, results); err != nil {
			return err
		}
	}
	if opts.JSON {
		if err := WriteJSON(r.Out, results); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(r.Out, "%d passed, %d failed\n", passed, failed)
	}
	if failed > 0 {
		return ErrTestFailed
	}
	return ctx.Err()
}

// testLabs runs the labs' tests (see eachLab for the order). Each lab's
// table is printed as soon as it and every lab named before it are done,
// so the report reads in the order given. Labs not started because of
// Ctrl-C are left out.
func (r *Runner) testLabs(ctx context.Context, c kubernetes.Interface, labs []*content.Lab, opts TestOptions) []LabResult {
	results := make([]LabResult, len(labs))
	ran := make([]bool, len(labs))
	var mu sync.Mutex
	printed := 0
	// Once for all labs, not once in each parallel sandbox (then it
	// returns at once); a failure shows again in each lab's result.
	_ = r.settle(ctx, c)
	eachLab(ctx, labs, opts.Parallel, func(i int) {
		res := r.testLab(ctx, c, labs[i], opts)
		mu.Lock()
		defer mu.Unlock()
		results[i], ran[i] = res, true
		for ; printed < len(labs) && ran[printed]; printed++ {
			if !opts.JSON {
				r.printLabResult(results[printed])
			}
		}
	})
	var out []LabResult
	for i, res := range results {
		if ran[i] {
			out = append(out, res)
		}
	}
	return out
}

// eachLab calls run for every lab: those of scope namespace up to parallel
// at once (each has its own namespace, as learners of a class do), then
// the others one by one, alone (a lab that drains a node or limits its
// memory would disturb the labs beside it). After Ctrl-C no lab starts.
func eachLab(ctx context.Context, labs []*content.Lab, parallel int, run func(i int)) {
	var shared, alone []int
	for i, lab := range labs {
		if parallel > 1 && (lab.Scope == content.ScopeNamespace || lab.Scope == "") {
			shared = append(shared, i)
		} else {
			alone = append(alone, i)
		}
	}
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for _, i := range shared {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			run(i)
		}()
	}
	wg.Wait()
	for _, i := range alone {
		if ctx.Err() != nil {
			break
		}
		run(i)
	}
}

func (r *Runner) testLab(ctx context.Context, c kubernetes.Interface, lab *content.Lab, opts TestOptions) (res LabResult) {
	start := time.Now()
	ns := fmt.Sprintf("%s-test-%s", lab.Namespace, randomSuffix())
	res = LabResult{Lab: lab.ID, Namespace: ns}
	defer func() { res.Seconds = roundSecs(time.Since(start)) }()
	r.Display.Status(fmt.Sprintf("testing %s in namespace %s", lab.ID, ns))

	failed := false
	sb, err := r.openSandbox(ctx, c, lab, ns, opts.ScriptOutput)
	defer func() {
		if cerr := sb.close(ctx, failed && opts.KeepOnFailure); cerr != nil && res.Error == "" {
			res.Error = cerr.Error()
		}
		res.Kept = failed && opts.KeepOnFailure
	}()
	if err != nil {
		failed, res.Error = true, err.Error()
		return res
	}
	for i, step := range lab.Steps {
		sr := r.testStep(ctx, sb, lab, i, step, opts)
		res.Steps = append(res.Steps, sr)
		if !sr.OK() {
			failed = true
			r.Display.Fail(fmt.Sprintf("%s step %d: %s%s", lab.ID, i+1, sr.Failure, sr.Error))
		} else {
			r.Display.Done(fmt.Sprintf("%s step %d: %s (%.1fs)", lab.ID, i+1, step.Title, sr.Seconds))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return res
}

// sandbox is a lab set up on a fresh namespace of its own, as `labs test`
// and `labs grade` run it.
type sandbox struct {
	r   *Runner
	c   kubernetes.Interface
	lab *content.Lab
	ns  string
	env *scriptEnv // the lab's own scripts (setup, reference solutions)
	eng *checks.Engine
	out io.Writer
	// undo runs at close, before the namespace goes (RBAC objects made
	// for a student).
	undo []func(context.Context) error
}

// openSandbox creates ns and runs the lab's setup in it. The sandbox it
// returns is never nil: close it even on error.
func (r *Runner) openSandbox(ctx context.Context, c kubernetes.Interface, lab *content.Lab, ns string, out io.Writer, labels ...string) (*sandbox, error) {
	sb := &sandbox{r: r, c: c, lab: lab, ns: ns, out: out}
	if err := r.settle(ctx, c); err != nil {
		return sb, err
	}
	if err := ensureNamespace(ctx, c, ns, labels...); err != nil {
		return sb, err
	}
	env, err := r.newScriptEnv(ns, nil)
	if err != nil {
		return sb, err
	}
	sb.env = env
	if err := r.setup(ctx, env, lab, out); err != nil {
		return sb, err
	}
	env.out = out
	if sb.eng, err = r.newEngine(c, ns, env); err != nil {
		return sb, err
	}
	return sb, nil
}

// close undoes what the lab changed outside its namespace (nodes) and,
// unless keep, deletes the namespace. It runs on a fresh context: cleanup
// must happen even after Ctrl-C.
func (sb *sandbox) close(ctx context.Context, keep bool) error {
	r := sb.r
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	var first error
	fail := func(err error) {
		if err != nil {
			r.Display.Fail(err.Error())
			if first == nil {
				first = err
			}
		}
	}
	fail(r.cleanup(cctx, sb.lab, sb.ns, sb.out))
	for _, u := range sb.undo {
		fail(u(cctx))
	}
	if sb.env != nil {
		sb.env.Close()
	}
	if keep {
		r.Display.Status(fmt.Sprintf("kept namespace %s for inspection (--keep-on-failure): `labs kubectl -n %s get all`", sb.ns, sb.ns))
		return first
	}
	if err := deleteNamespace(cctx, sb.c, sb.ns, 0); err != nil {
		r.Display.Fail(err.Error())
	}
	return first
}

// judge runs a step's checks after its solution (waiting for each to hold,
// within its timeout) and, when any fails, gathers the pods and warning
// events that matter (evidence) and the first error a check met.
func (sb *sandbox) judge(ctx context.Context, specs []checks.Spec, base *checks.Baseline, answer string) (after []checks.Result, evidence []string, cerr error) {
	after, err := sb.eng.Run(ctx, specs, checks.Options{Wait: true, Baseline: base, Answer: answer})
	if err != nil {
		return nil, nil, err
	}
	if allPassed(after) {
		return after, nil, nil
	}
	var concerns []checks.Concern
	for i, res := range after {
		if !res.Passed {
			concerns = append(concerns, checks.ConcernOf(specs[i]))
		}
		if res.Err != nil && cerr == nil {
			cerr = res.Err
		}
	}
	if ev, err := checks.CollectEvidence(ctx, sb.eng.Dynamic, sb.ns, concerns, 5); err == nil {
		if len(ev.Pods) > 0 {
			evidence = append(evidence, "pods: "+strings.Join(ev.Pods, "; "))
		}
		if len(ev.Events) > 0 {
			evidence = append(evidence, "warning events: "+strings.Join(ev.Events, "; "))
		}
	}
	return after, evidence, cerr
}

func (r *Runner) testStep(ctx context.Context, sb *sandbox, lab *content.Lab, i int, step content.Step, opts TestOptions) (sr StepResult) {
	start := time.Now()
	sr = StepResult{Step: i + 1, Title: step.Title}
	defer func() { sr.Seconds = roundSecs(time.Since(start)) }()
	eng, env := sb.eng, sb.env

	// env.vars gathers what the steps so far captured, as a learner's
	// progress does.
	if err := r.runStepSetup(ctx, lab, i, eng.Namespace, env.vars, opts.ScriptOutput); err != nil {
		sr.Error = err.Error()
		return sr
	}
	specs := r.stepChecks(lab, i, eng.Namespace, env.vars)
	base, err := eng.TakeBaseline(ctx, specs)
	if err != nil {
		sr.Error = err.Error()
		return sr
	}
	before, err := eng.Run(ctx, specs, checks.Options{Baseline: base})
	if err != nil {
		sr.Error = err.Error()
		return sr
	}
	sr.Before = sentences(before)
	sr.FailedBefore = !allPassed(before)
	if !sr.FailedBefore {
		sr.Failure = "every check already passed before the solution ran: the checks cannot tell a learner who did the step from one who did not"
	}
	env.takeAnswer()
	if err := env.run(ctx, step.Solve, opts.ScriptOutput, opts.SolveTimeout); err != nil {
		sr.Error = fmt.Sprintf("solution: %v", err)
		return sr
	}
	after, evidence, err := sb.judge(ctx, specs, base, env.takeAnswer())
	if after == nil {
		sr.Error = err.Error()
		return sr
	}
	if err != nil && sr.Error == "" {
		sr.Error = err.Error()
	}
	sr.After = sentences(after)
	sr.PassedAfter = allPassed(after)
	env.vars = merged(env.vars, capturedOf(after))
	if !sr.PassedAfter {
		var msgs []string
		for _, res := range after {
			if !res.Passed {
				msgs = append(msgs, res.Sentence())
			}
		}
		fail := "after the solution: " + strings.Join(append(msgs, evidence...), " | ")
		if sr.Failure != "" {
			sr.Failure += "; " + fail
		} else {
			sr.Failure = fail
		}
	}
	return sr
}

// capturedOf is what the passed checks captured.
func capturedOf(rs []checks.Result) map[string]string {
	out := map[string]string{}
	for _, res := range rs {
		if res.Passed {
			out = merged(out, res.Captured)
		}
	}
	return out
}

func sentences(rs []checks.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		verdict := "FAIL"
		if r.Passed {
			verdict = "PASS"
		}
		out[i] = verdict + ": " + r.Sentence()
	}
	return out
}

func allPassed(rs []checks.Result) bool {
	for _, r := range rs {
		if !r.Passed {
			return false
		}
	}
	return true
}

func (r *Runner) printLabResult(res LabResult) {
	fmt.Fprintf(r.Out, "%s (namespace %s, %.1fs)\n", r.Style.Bold(res.Lab), res.Namespace, res.Seconds)
	if res.Error != "" {
		fmt.Fprintf(r.Out, "  %s %s\n", r.Style.Red("ERROR"), res.Error)
	}
	t := content.NewTable("  STEP", "TITLE", "FAIL-BEFORE", "PASS-AFTER", "SECONDS", "RESULT")
	for _, s := range res.Steps {
		verdict := "ok"
		switch {
		case s.Error != "":
			verdict = "ERROR"
		case s.Failure != "":
			verdict = "FAIL"
		}
		t.Row(fmt.Sprintf("  %d", s.Step), s.Title, yesNo(s.FailedBefore), yesNo(s.PassedAfter), fmt.Sprintf("%.1f", s.Seconds), verdict)
	}
	_ = t.Write(r.Out)
	for _, s := range res.Steps {
		if !s.OK() {
			fmt.Fprintf(r.Out, "  step %d: %s%s\n", s.Step, s.Failure, s.Error)
		}
	}
}

// roundSecs keeps reports readable: milliseconds are precision enough.
func roundSecs(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
