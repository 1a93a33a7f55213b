package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
)

// GradeOptions tune `labs grade`.
type GradeOptions struct {
	// Submission is the student's folder: step-01.sh, or step-01/ with
	// manifests, per step. "" grades the lab's namespace as the learner
	// left it.
	Submission string
	// PassMark is the score needed to pass when PassMarkSet: points, or
	// with PassPercent a percentage of the maximum. Unset: every point.
	PassMark    float64
	PassPercent bool
	PassMarkSet bool
	StepTimeout time.Duration
	JUnitFile   string
	JSON        bool
	// GitHub adds GitHub Actions annotations (GITHUB_ACTIONS=true).
	GitHub bool
	// ScriptOutput receives the output of setup and submission scripts.
	ScriptOutput io.Writer
}

// GradeStep is how one step scored.
type GradeStep struct {
	Step      int    `json:"step"`
	Title     string `json:"title"`
	Points    int    `json:"points"`
	MaxPoints int    `json:"max_points"`
	// RecordedDone: the learner's progress says `labs check` passed the
	// step (grading the state only).
	RecordedDone *bool    `json:"recorded_done,omitempty"`
	Passed       bool     `json:"passed"`
	Expected     []string `json:"expected"`
	Found        []string `json:"found"`
	// Submitted names what ran for the step (step-01.sh, step-01/); ""
	// when the submission has nothing for it.
	Submitted string `json:"submitted,omitempty"`
	// Error: the step could not be graded as asked (the submission's script
	// failed or hung, the cluster did not answer).
	Error string `json:"error,omitempty"`
	// NotGradable says why the state alone cannot judge the step (grading
	// without a submission).
	NotGradable string  `json:"not_gradable,omitempty"`
	Seconds     float64 `json:"seconds"`
	// broke: the error was the grader's (setup, cluster), not the work's.
	broke bool
}

// GradeReport is a lab's grade.
type GradeReport struct {
	Lab       string `json:"lab"`
	Namespace string `json:"namespace"`
	// Mode is "submission" (the student's steps ran on a fresh namespace)
	// or "state" (the lab namespace as it is).
	Mode  string      `json:"mode"`
	Steps []GradeStep `json:"steps"`
	// Ignored are entries of the submission that name no step
	// (step-1.sh, step-08.sh of a 7-step lab).
	Ignored  []string `json:"ignored,omitempty"`
	Score    int      `json:"score"`
	MaxScore int      `json:"max_score"`
	PassMark float64  `json:"pass_mark"`
	Passed   bool     `json:"passed"`
	Seconds  float64  `json:"seconds"`
}

// ErrBelowPassMark is returned when the grade is below the pass mark.
var ErrBelowPassMark = errors.New("below the pass mark")

// ErrGradingBroke wraps what kept grading from running at all (the
// cluster, the lab's setup): not the student's fault.
var ErrGradingBroke = errors.New("grading could not run")

// Grade grades a student's work on lab name: with a submission, each step
// runs the student's solution on a fresh namespace, under a kubeconfig
// that RBAC limits to that namespace, and the step's checks judge it;
// without, the lab namespace is judged as it is, by the checks that need
// no history.
func (r *Runner) Grade(ctx context.Context, name string, opts GradeOptions) (*GradeReport, error) {
	if err := r.onKind("`labs grade` (it makes and deletes namespaces of its own)"); err != nil {
		return nil, err
	}
	start := time.Now()
	lab, err := r.Catalog.Find(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrGradingBroke, err)
	}
	if opts.Submission != "" {
		if fi, err := os.Stat(opts.Submission); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%w: the submission %s is not a folder (it holds step-01.sh or step-01/*.yaml, one per step)", ErrGradingBroke, opts.Submission)
		}
		// Scripts run in the submission's folder: their own path must not
		// be relative to where labs was started.
		if opts.Submission, err = filepath.Abs(opts.Submission); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrGradingBroke, err)
		}
	}
	if opts.StepTimeout == 0 {
		opts.StepTimeout = solveTimeout
	}
	if opts.ScriptOutput == nil {
		opts.ScriptOutput = io.Discard
	}
	maxAll := 0
	for i := range lab.Steps {
		maxAll += lab.StepPoints(i)
	}
	if opts.PassMarkSet && !opts.PassPercent && opts.PassMark > float64(maxAll) {
		return nil, fmt.Errorf("%w: --pass-mark %s is more than the %d points %s is worth", ErrGradingBroke, trimFloat(opts.PassMark), maxAll, lab.ID)
	}
	rep := &GradeReport{Lab: lab.ID}
	var gerr error
	if opts.Submission != "" {
		gerr = r.gradeSubmission(ctx, lab, rep, opts)
	} else {
		gerr = r.gradeState(ctx, lab, rep)
	}
	rep.Seconds = roundSecs(time.Since(start))
	for i, s := range rep.Steps {
		if s.NotGradable == "" { // the state cannot judge it: not in the maximum
			rep.MaxScore += lab.StepPoints(i)
		}
		rep.Score += s.Points
		if s.broke && gerr == nil {
			gerr = fmt.Errorf("step %d could not be graded: %s", s.Step, s.Error)
		}
	}
	if len(rep.Steps) == 0 {
		rep.MaxScore = maxAll
	}
	rep.PassMark = passMark(rep.MaxScore, opts)
	rep.Passed = gerr == nil && float64(rep.Score) >= rep.PassMark
	// The verdict is printed first: a report that cannot be written must
	// not hide minutes of grading.
	if opts.JSON {
		if err := WriteJSON(r.Out, rep); err != nil {
			return rep, err
		}
	} else {
		r.printGrade(lab, rep)
	}
	if opts.GitHub {
		r.gradeAnnotations(lab, rep, opts.Submission)
	}
	if opts.JUnitFile != "" {
		if err := writeGradeJUnit(opts.JUnitFile, rep, gerr); err != nil && gerr == nil {
			gerr = err
		}
	}
	switch {
	case gerr != nil:
		return rep, fmt.Errorf("%w: %w", ErrGradingBroke, gerr)
	case !rep.Passed:
		return rep, ErrBelowPassMark
	}
	return rep, ctx.Err()
}

// passMark is the score needed: every point unless the options say.
func passMark(maxScore int, opts GradeOptions) float64 {
	switch {
	case !opts.PassMarkSet:
		return float64(maxScore)
	case opts.PassPercent:
		return opts.PassMark * float64(maxScore) / 100
	}
	return opts.PassMark
}

// gradeSubmission runs each step's submitted solution in order on a fresh
// namespace: baseline checks (a pod replaced, a container restarted) see
// what the student's step did.
func (r *Runner) gradeSubmission(ctx context.Context, lab *content.Lab, rep *GradeReport, opts GradeOptions) (err error) {
	c, err := r.ensureCluster(ctx)
	if err != nil {
		return err
	}
	ns := fmt.Sprintf("%s-grade-%s", lab.Namespace, randomSuffix())
	rep.Namespace, rep.Mode = ns, "submission"
	r.Display.Status(fmt.Sprintf("grading %s from %s in namespace %s", lab.ID, opts.Submission, ns))
	rep.Ignored = unknownEntries(opts.Submission, len(lab.Steps))
	for _, n := range rep.Ignored {
		r.Display.Fail(fmt.Sprintf("%s in the submission names no step of %s (steps are step-01.sh or step-01/ to step-%02d): ignored", n, lab.ID, len(lab.Steps)))
	}
	// No privileged pod, host path or host network for a submission
	// (RBAC's admin role would allow them: root on a node) unless the lab
	// says it needs them.
	level := lab.PodSecurity
	if level == "" {
		level = "baseline"
	}
	sb, err := r.openSandbox(ctx, c, lab, ns, opts.ScriptOutput, "pod-security.kubernetes.io/enforce", level)
	defer func() {
		// What could not be cleaned up (a node left cordoned, a role left
		// behind) is grading's failure: CI must see it.
		if cerr := sb.close(ctx, false); cerr != nil && err == nil {
			err = fmt.Errorf("cleaning up after grading: %w", cerr)
		}
	}()
	if err != nil {
		return err
	}
	student, err := r.studentEnv(ctx, sb, opts.StepTimeout)
	if err != nil {
		return err
	}
	defer student.Close()
	for i, step := range lab.Steps {
		gs := r.gradeStep(ctx, sb, student, i, step, opts)
		rep.Steps = append(rep.Steps, gs)
		switch {
		case gs.Passed:
			r.Display.Done(fmt.Sprintf("step %d: %s: %d/%d", i+1, step.Title, gs.Points, gs.MaxPoints))
		default:
			r.Display.Fail(fmt.Sprintf("step %d: %s: 0/%d", i+1, step.Title, gs.MaxPoints))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

func (r *Runner) gradeStep(ctx context.Context, sb *sandbox, student *scriptEnv, i int, step content.Step, opts GradeOptions) (gs GradeStep) {
	start := time.Now()
	gs = GradeStep{Step: i + 1, Title: step.Title, MaxPoints: sb.lab.StepPoints(i), Expected: []string{}, Found: []string{}}
	defer func() { gs.Seconds = roundSecs(time.Since(start)) }()
	lab, eng := sb.lab, sb.eng
	broke := func(err error) GradeStep {
		gs.Error, gs.broke = err.Error(), true
		return gs
	}
	if err := r.runStepSetup(ctx, lab, i, sb.ns, sb.env.vars, opts.ScriptOutput); err != nil {
		return broke(err)
	}
	specs := r.stepChecks(lab, i, sb.ns, sb.env.vars)
	gs.Expected = expectations(specs)
	if err := uncaptured(lab, i, specs); err != nil {
		// An earlier step of the submission failed to make what this one
		// is about: nothing to judge it against.
		gs.Found = []string{fmt.Sprintf("not judged: step %d's checks name what an earlier step records when it passes, and it did not pass", i+1)}
		return gs
	}
	base, err := eng.TakeBaseline(ctx, specs)
	if err != nil {
		return broke(err)
	}
	student.vars = sb.env.vars
	student.takeAnswer()
	script, what := submissionFor(opts.Submission, i)
	gs.Submitted = what
	var ran error
	switch {
	case what == "":
		gs.Found = []string{fmt.Sprintf("no submission for step %d (%s or %s/)", i+1, stepName(i)+".sh", stepName(i))}
		return gs
	case script:
		ran = student.runFile(ctx, filepath.Join(opts.Submission, what), opts.ScriptOutput, opts.StepTimeout)
	default:
		ran = student.applyDir(ctx, filepath.Join(opts.Submission, what), opts.ScriptOutput, opts.StepTimeout)
	}
	if ran != nil {
		gs.Error = fmt.Sprintf("%s: %v", what, ran)
		if strings.Contains(ran.Error(), "forbidden") {
			gs.Error += fmt.Sprintf(" (a submission may act only in its namespace, %s)", sb.ns)
		}
		if errors.Is(ran, errTimedOut) {
			gs.Found = []string{gs.Error}
			return gs // scored 0; grading goes on
		}
	}
	student.killLeftovers()
	after, evidence, err := sb.judge(ctx, specs, base, student.takeAnswer())
	if after == nil {
		return broke(err)
	}
	gs.Found = founds(after)
	gs.Passed = allPassed(after)
	if gs.Passed {
		gs.Points = gs.MaxPoints
		gs.Error = "" // the script complained, yet the state is right
	} else {
		gs.Found = append(gs.Found, evidence...)
	}
	sb.env.vars = merged(sb.env.vars, capturedOf(after))
	return gs
}

// unknownEntries are the submission's step* entries that name no step of
// an n-step lab: a typo (step-1.sh) must not pass unnoticed.
func unknownEntries(dir string, n int) []string {
	known := map[string]bool{}
	for i := 0; i < n; i++ {
		known[stepName(i)+".sh"], known[stepName(i)] = true, true
	}
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "step") && !known[e.Name()] {
			out = append(out, e.Name())
		}
	}
	return out
}

// stepName is how a submission names step i (0-based): step-01.
func stepName(i int) string { return fmt.Sprintf("step-%02d", i+1) }

// submissionFor finds step i's solution in dir: a script (step-01.sh) or a
// folder of manifests (step-01/); what is "" when there is neither.
func submissionFor(dir string, i int) (script bool, what string) {
	n := stepName(i)
	if fi, err := os.Stat(filepath.Join(dir, n+".sh")); err == nil && !fi.IsDir() {
		return true, n + ".sh"
	}
	if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.IsDir() {
		return false, n + "/"
	}
	return false, ""
}

func expectations(specs []checks.Spec) []string {
	out := make([]string, 0, len(specs))
	for _, s := range specs {
		if c, err := checks.Compile(s); err == nil {
			e := c.Expected()
			if s.Description != "" {
				e = s.Description
			}
			out = append(out, e)
		}
	}
	return out
}

func founds(rs []checks.Result) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		mark := "✗ "
		if r.Passed {
			mark = "✓ "
		}
		out = append(out, mark+strings.TrimSpace(r.Found))
	}
	return out
}

// gradeState judges the lab namespace as the learner left it: each step
// whose checks can be judged from the state alone, at once.
func (r *Runner) gradeState(ctx context.Context, lab *content.Lab, rep *GradeReport) error {
	rep.Namespace, rep.Mode = r.ns(lab), "state"
	c, err := r.client()
	if err != nil {
		return err
	}
	if err := r.reachable(ctx, c, 10*time.Second); err != nil {
		return err
	}
	if err := r.settle(ctx, c); err != nil {
		return err
	}
	var captured map[string]string
	prog, err := r.store().Load(ctx, lab.ID)
	if err == nil && prog != nil {
		prog.fit(lab)
		captured = prog.Captured
	}
	eng, done, err := r.engineFor(c, r.ns(lab), captured)
	if err != nil {
		return err
	}
	defer done()
	for i, step := range lab.Steps {
		start := time.Now()
		gs := GradeStep{Step: i + 1, Title: step.Title, MaxPoints: lab.StepPoints(i), Expected: []string{}, Found: []string{}}
		if prog != nil && i < len(prog.Done) {
			done := prog.Done[i]
			gs.RecordedDone = &done
		}
		specs := r.stepChecks(lab, i, r.ns(lab), captured)
		gs.Expected = expectations(specs)
		for _, s := range specs {
			if why, err := checks.NeedsHistory(s); err == nil && why != "" {
				gs.NotGradable = fmt.Sprintf("not gradable from the state alone: %s; grade a submission instead (--submission DIR)", why)
				break
			}
		}
		if gs.NotGradable == "" {
			if err := uncaptured(lab, i, specs); err != nil {
				gs.NotGradable = "not gradable: " + err.Error()
			}
		}
		if gs.NotGradable == "" {
			res, err := eng.Run(ctx, specs, checks.Options{})
			if err != nil {
				gs.Error, gs.broke = err.Error(), true
			} else {
				gs.Found = founds(res)
				gs.Passed = allPassed(res)
			}
		}
		if gs.Passed {
			gs.Points = gs.MaxPoints
		}
		gs.Seconds = roundSecs(time.Since(start))
		rep.Steps = append(rep.Steps, gs)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

func (r *Runner) printGrade(lab *content.Lab, rep *GradeReport) {
	fmt.Fprintf(r.Out, "%s (%s, namespace %s, %.1fs)\n", r.Style.Bold(lab.Title), lab.ID, rep.Namespace, rep.Seconds)
	t := content.NewTable("  STEP", "TITLE", "POINTS", "RESULT")
	for _, s := range rep.Steps {
		verdict := r.Style.Green("pass")
		switch {
		case s.Passed:
		case s.NotGradable != "":
			verdict = "not gradable"
		case s.Submitted == "" && rep.Mode == "submission" && s.Error == "":
			verdict = r.Style.Red("missing")
		case s.Error != "":
			verdict = r.Style.Red("error")
		default:
			verdict = r.Style.Red("fail")
		}
		t.Row(fmt.Sprintf("  %d", s.Step), s.Title, fmt.Sprintf("%d/%d", s.Points, s.MaxPoints), verdict)
	}
	_ = t.Write(r.Out)
	for _, s := range rep.Steps {
		if s.Passed {
			continue
		}
		fmt.Fprintf(r.Out, "\n  step %d: %s\n", s.Step, s.Title)
		if s.NotGradable != "" {
			fmt.Fprintf(r.Out, "    %s\n", s.NotGradable)
			continue
		}
		for _, e := range s.Expected {
			fmt.Fprintf(r.Out, "    expected: %s\n", e)
		}
		for _, f := range s.Found {
			fmt.Fprintf(r.Out, "    found:    %s\n", f)
		}
		if s.Error != "" && (len(s.Found) == 0 || s.Found[0] != s.Error) {
			fmt.Fprintf(r.Out, "    error:    %s\n", s.Error)
		}
	}
	verdict := r.Style.Green("PASSED")
	if !rep.Passed {
		verdict = r.Style.Red("NOT PASSED")
	}
	fmt.Fprintf(r.Out, "\nscore %d/%d (pass mark %s): %s\n", rep.Score, rep.MaxScore, trimFloat(rep.PassMark), verdict)
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

// gradeAnnotations marks each step short of its points on the run's page:
// on the student's file for the step when there is one, else on the lab.
func (r *Runner) gradeAnnotations(lab *content.Lab, rep *GradeReport, dir string) {
	for _, s := range rep.Steps {
		if s.Passed || s.NotGradable != "" {
			continue
		}
		// On the student's file for the step (a folder's first manifest);
		// none when the step is missing: the lab is not in their repository.
		file := ""
		if s.Submitted != "" {
			file = filepath.Join(dir, strings.TrimSuffix(s.Submitted, "/"))
			if strings.HasSuffix(s.Submitted, "/") {
				if m, _ := filepath.Glob(filepath.Join(file, "*.y*ml")); len(m) > 0 {
					file = m[0]
				}
			}
		}
		msg := fmt.Sprintf("expected %s; found %s", strings.Join(s.Expected, "; "), strings.Join(s.Found, "; "))
		// stderr: stdout may be JSON a machine reads; Actions reads both.
		fmt.Fprintln(r.ErrOut, GitHubAnnotation("error", file, 1, fmt.Sprintf("step %d: %s (0/%d)", s.Step, s.Title, s.MaxPoints), msg))
	}
}

// studentEnv is a script environment whose kubeconfig is a service
// account's, which RBAC limits to the grading namespace (admin there; nodes
// only read, or patched when the lab changes them): a submission cannot
// touch kube-system, other namespaces, or delete its own.
func (r *Runner) studentEnv(ctx context.Context, sb *sandbox, stepTimeout time.Duration) (*scriptEnv, error) {
	env, err := r.newScriptEnv(sb.ns, nil)
	if err != nil {
		return nil, err
	}
	env.submission = true
	// The token outlives the longest grading: every step at its timeout
	// and its checks' waits.
	lifetime := max(2*time.Hour, time.Duration(len(sb.lab.Steps))*(stepTimeout+5*time.Minute))
	undo, err := restrictKubeconfig(ctx, sb.c, env.kubeconfig, sb.ns, sb.lab.Scope != content.ScopeNamespace, lifetime)
	sb.undo = append(sb.undo, undo)
	if err != nil {
		env.Close()
		return nil, fmt.Errorf("limiting the submission to namespace %s: %w", sb.ns, err)
	}
	return env, nil
}
