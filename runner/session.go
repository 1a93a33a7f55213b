package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
)

// ErrChecksFailed is returned when a step's checks did not all pass; the
// details were already printed.
var ErrChecksFailed = errors.New("checks failed")

// ErrNoSession means no lab was started.
var ErrNoSession = errors.New("no lab started: run `labs start LAB` (see `labs list`)")

// session is the current lab, its progress and a client.
type session struct {
	lab    *content.Lab
	prog   *Progress
	client kubernetes.Interface
	store  Store
}

func (r *Runner) store() Store { return Store{Dir: r.Paths.StateDir} }

func (r *Runner) current(needClient bool) (*session, error) {
	st := r.store()
	id, err := st.Current()
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, ErrNoSession
	}
	lab, err := r.Catalog.Find(id)
	if err != nil {
		return nil, err
	}
	prog, err := st.Load(id)
	if err != nil {
		return nil, err
	}
	if prog == nil {
		return nil, ErrNoSession
	}
	if prog.Step >= len(lab.Steps) {
		prog.Step = len(lab.Steps) - 1
	}
	s := &session{lab: lab, prog: prog, store: st}
	if needClient {
		if s.client, err = r.client(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start brings up the cluster (or reuses it), prepares the lab's namespace
// and shows the current step: a new lab starts at step 1, a started one
// resumes where the learner stopped.
func (r *Runner) Start(ctx context.Context, name string) error {
	lab, err := r.Catalog.Find(name)
	if err != nil {
		return err
	}
	c, err := r.ensureCluster(ctx)
	if err != nil {
		return err
	}
	st := r.store()
	prog, err := st.Load(lab.ID)
	if err != nil {
		return err
	}
	_, err = c.CoreV1().Namespaces().Get(ctx, lab.Namespace, metav1.GetOptions{})
	fresh := apierrors.IsNotFound(err)
	if err != nil && !fresh {
		return fmt.Errorf("looking up namespace %s: %w", lab.Namespace, err)
	}
	if err := r.writeKubeconfigFor(r.Paths.Kubeconfig(), lab.Namespace); err != nil {
		return err
	}
	if prog != nil && fresh {
		r.Display.Status(fmt.Sprintf("namespace %s is new on this cluster, so the objects of your earlier steps are gone: starting %s again from step 1", lab.Namespace, lab.ID))
		prog = nil
	}
	if prog == nil {
		if err := r.prepare(ctx, c, lab); err != nil {
			return err
		}
		prog = &Progress{Lab: lab.ID, Done: make([]bool, len(lab.Steps))}
		if err := r.enterStep(ctx, c, lab, prog, 0); err != nil {
			return err
		}
	} else {
		r.Display.Status(fmt.Sprintf("resuming %s at step %d of %d", lab.ID, prog.Step+1, len(lab.Steps)))
	}
	if err := st.SetCurrent(lab.ID); err != nil {
		return err
	}
	if err := st.Save(prog); err != nil {
		return err
	}
	if prog.Step == 0 && !lab.Intro.Empty() {
		fmt.Fprintf(r.Out, "%s  %s\n\n", r.Style.Bold(lab.Title), r.Style.Dim(fmt.Sprintf("(%d steps, %s)", len(lab.Steps), lab.Duration)))
		if err := content.Render(r.Out, lab.Intro, r.Style); err != nil {
			return err
		}
		fmt.Fprintln(r.Out)
	}
	return r.showStep(lab, prog)
}

// prepare creates the lab namespace and runs the lab's setup.
func (r *Runner) prepare(ctx context.Context, c kubernetes.Interface, lab *content.Lab) error {
	if err := ensureNamespace(ctx, c, lab.Namespace); err != nil {
		return err
	}
	if len(lab.Setup) == 0 {
		return nil
	}
	r.Display.Status(fmt.Sprintf("running the setup of %s", lab.ID))
	env, err := r.newScriptEnv(lab.Namespace)
	if err != nil {
		return err
	}
	defer env.Close()
	return r.setup(ctx, env, lab, r.ErrOut)
}

// enterStep makes step i current: a new baseline, no checks passed yet.
func (r *Runner) enterStep(ctx context.Context, c kubernetes.Interface, lab *content.Lab, prog *Progress, i int) error {
	b, err := checks.TakeBaseline(ctx, c, lab.Namespace)
	if err != nil {
		return err
	}
	prog.Step, prog.Passed, prog.Baseline = i, nil, b
	return nil
}

func (r *Runner) showStep(lab *content.Lab, prog *Progress) error {
	s := lab.Steps[prog.Step]
	fmt.Fprintf(r.Out, "%s\n\n", r.Style.Bold(fmt.Sprintf("Step %d/%d: %s", prog.Step+1, len(lab.Steps), s.Title)))
	if err := content.Render(r.Out, s.Prose, r.Style); err != nil {
		return err
	}
	fmt.Fprintf(r.Out, "\n%s\n", r.Style.Dim("When you are done, run `labs check`. Stuck? `labs hint`."))
	return nil
}

// Show prints the current step.
func (r *Runner) Show(ctx context.Context) error {
	s, err := r.current(false)
	if err != nil {
		return err
	}
	return r.showStep(s.lab, s.prog)
}

// Hint prints the current step's hint.
func (r *Runner) Hint(ctx context.Context) error {
	s, err := r.current(false)
	if err != nil {
		return err
	}
	h := strings.TrimSpace(s.lab.Steps[s.prog.Step].Hint)
	if h == "" {
		h = "This step has no hint. `labs solve` runs the reference solution."
	}
	fmt.Fprintln(r.Out, h)
	return nil
}

// Solve prints and runs the current step's reference solution.
func (r *Runner) Solve(ctx context.Context) error {
	s, err := r.current(false)
	if err != nil {
		return err
	}
	step := s.lab.Steps[s.prog.Step]
	fmt.Fprintf(r.Out, "%s\n", r.Style.Dim("Reference solution of step "+fmt.Sprint(s.prog.Step+1)+":"))
	for _, l := range strings.Split(strings.TrimRight(step.Solve, "\n"), "\n") {
		fmt.Fprintln(r.Out, "    "+r.Style.Cyan(l))
	}
	fmt.Fprintln(r.Out)
	env, err := r.newScriptEnv(s.lab.Namespace)
	if err != nil {
		return err
	}
	defer env.Close()
	if err := env.run(ctx, step.Solve, r.ErrOut, solveTimeout); err != nil {
		return fmt.Errorf("step %d solution: %w", s.prog.Step+1, err)
	}
	fmt.Fprintln(r.Out, "Solution applied. Run `labs check` to verify it.")
	return nil
}

const solveTimeout = 5 * time.Minute

// CheckOptions tune `labs check`.
type CheckOptions struct {
	Timeout time.Duration // overrides every check's timeout when > 0
	JSON    bool
}

// CheckReport is `labs check --output json`.
type CheckReport struct {
	Lab      string         `json:"lab"`
	Step     int            `json:"step"`
	Title    string         `json:"title"`
	Passed   bool           `json:"passed"`
	Checks   []CheckOutcome `json:"checks"`
	Evidence *Evidence      `json:"evidence,omitempty"`
	Next     int            `json:"next_step,omitempty"`
	Complete bool           `json:"lab_complete,omitempty"`
}

// CheckOutcome is one check's verdict.
type CheckOutcome struct {
	Expected string  `json:"expected"`
	Found    string  `json:"found"`
	Passed   bool    `json:"passed"`
	Seconds  float64 `json:"seconds"`
	Error    string  `json:"error,omitempty"`
}

// Evidence is checks.Evidence for output.
type Evidence struct {
	Namespace string   `json:"namespace"`
	Pods      []string `json:"pods"`
	Events    []string `json:"warning_events"`
}

// Check evaluates the current step against the cluster. On success it marks
// the step done and shows the next; on failure it prints each failing check
// as expected/found, with evidence, and returns ErrChecksFailed.
func (r *Runner) Check(ctx context.Context, opts CheckOptions) error {
	s, err := r.current(true)
	if err != nil {
		return err
	}
	lab, prog := s.lab, s.prog
	step := lab.Steps[prog.Step]
	specs := withTimeout(step.Checks, opts.Timeout)
	passed := map[int]bool{}
	for _, i := range prog.Passed {
		passed[i] = true
	}
	if !opts.JSON {
		r.Display.Status(fmt.Sprintf("checking step %d/%d: %s (%d checks, up to %s)", prog.Step+1, len(lab.Steps), step.Title, len(specs), longest(specs)))
	}
	env, err := r.newScriptEnv(lab.Namespace)
	if err != nil {
		return err
	}
	defer env.Close()
	env.out = r.ErrOut
	eng := &checks.Engine{Client: s.client, Namespace: lab.Namespace, Prober: &prober{c: s.client, ns: lab.Namespace, env: env, log: r.Display.Status}}
	var settled atomic.Int32
	settled.Store(int32(len(passed)))
	stopTicker := r.tickWhileWaiting(func(el time.Duration) string {
		return fmt.Sprintf("waiting: %d of %d checks settled (%.0fs)", settled.Load(), len(specs), el.Seconds())
	}, opts.JSON)
	results, err := eng.Run(ctx, specs, checks.Options{Wait: true, Passed: passed, Baseline: prog.Baseline,
		OnResult: func(checks.Result) { settled.Add(1) }})
	stopTicker()
	if err != nil {
		return fmt.Errorf("checking step %d: %w", prog.Step+1, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rep := CheckReport{Lab: lab.ID, Step: prog.Step + 1, Title: step.Title, Passed: true}
	var failing []checks.Concern
	for i, res := range results {
		rep.Checks = append(rep.Checks, outcome(res))
		if res.Passed {
			if !passed[i] {
				prog.Passed = append(prog.Passed, i)
			}
			continue
		}
		rep.Passed = false
		failing = append(failing, checks.ConcernOf(step.Checks[i]))
	}
	if rep.Passed {
		prog.Done[prog.Step] = true
		if prog.Step+1 < len(lab.Steps) {
			if err := r.enterStep(ctx, s.client, lab, prog, prog.Step+1); err != nil {
				return err
			}
			rep.Next = prog.Step + 1
		} else {
			rep.Complete = true
		}
	} else {
		ev, err := checks.CollectEvidence(ctx, s.client, lab.Namespace, failing, 8)
		if err == nil {
			rep.Evidence = &Evidence{Namespace: lab.Namespace, Pods: ev.Pods, Events: ev.Events}
		}
	}
	if err := s.store.Save(prog); err != nil {
		return err
	}
	if opts.JSON {
		if err := writeJSON(r.Out, rep); err != nil {
			return err
		}
	} else {
		r.printCheck(rep, lab, prog)
	}
	if !rep.Passed {
		return ErrChecksFailed
	}
	return nil
}

// tickWhileWaiting shows a live line each second on a terminal while a long
// wait runs; piped or with JSON output it stays quiet. Call the returned
// function to stop it.
func (r *Runner) tickWhileWaiting(msg func(time.Duration) string, quiet bool) func() {
	if quiet || !r.Display.Interactive() {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.Display.Live(msg(time.Since(start)))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		r.Display.EndLive()
	}
}

func (r *Runner) printCheck(rep CheckReport, lab *content.Lab, prog *Progress) {
	for _, c := range rep.Checks {
		if c.Passed {
			fmt.Fprintf(r.Out, "  %s %s\n", r.Style.Green("✓"), c.Expected)
		} else if c.Error != "" {
			fmt.Fprintf(r.Out, "  %s expected %s; could not check: %s\n", r.Style.Red("✗"), c.Expected, c.Error)
		} else {
			fmt.Fprintf(r.Out, "  %s expected %s; found %s\n", r.Style.Red("✗"), c.Expected, c.Found)
		}
	}
	fmt.Fprintln(r.Out)
	switch {
	case rep.Complete:
		fmt.Fprintf(r.Out, "%s You finished %s: all %d steps done.\n", r.Style.Green("✓"), lab.Title, len(lab.Steps))
	case rep.Passed:
		fmt.Fprintf(r.Out, "%s Step %d done.\n\n", r.Style.Green("✓"), rep.Step)
		_ = r.showStep(lab, prog)
	default:
		if ev := rep.Evidence; ev != nil {
			fmt.Fprintf(r.Out, "%s\n", r.Style.Bold("What the cluster shows (namespace "+ev.Namespace+"):"))
			printList(r.Out, "pods", ev.Pods)
			printList(r.Out, "recent warning events", ev.Events)
			fmt.Fprintln(r.Out)
		}
		fmt.Fprintln(r.Out, "Not yet. Fix what is listed above and run `labs check` again; `labs hint` gives a nudge, `labs solve` runs the reference solution.")
	}
}

func printList(w io.Writer, title string, items []string) {
	if len(items) == 0 {
		fmt.Fprintf(w, "  %s: none\n", title)
		return
	}
	fmt.Fprintf(w, "  %s:\n", title)
	for _, it := range items {
		fmt.Fprintf(w, "    %s\n", it)
	}
}

func outcome(res checks.Result) CheckOutcome {
	o := CheckOutcome{Expected: res.Expected, Found: res.Found, Passed: res.Passed, Seconds: res.Elapsed.Seconds()}
	if res.Err != nil {
		o.Error = res.Err.Error()
	}
	return o
}

func withTimeout(specs []checks.Spec, d time.Duration) []checks.Spec {
	out := append([]checks.Spec(nil), specs...)
	if d > 0 {
		for i := range out {
			out[i].Timeout = checks.Duration{Duration: d}
		}
	}
	return out
}

func longest(specs []checks.Spec) time.Duration {
	var m time.Duration
	for _, s := range specs {
		if t := checks.TimeoutOf(s); t > m {
			m = t
		}
	}
	return m
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Goto moves to step n (1-based) and shows it. Earlier steps' objects stay
// as they are; `labs solve` on each catches up.
func (r *Runner) Goto(ctx context.Context, n int) error {
	s, err := r.current(true)
	if err != nil {
		return err
	}
	if n < 1 || n > len(s.lab.Steps) {
		return fmt.Errorf("step %d does not exist: %s has steps 1 to %d", n, s.lab.ID, len(s.lab.Steps))
	}
	return r.moveTo(ctx, s, n)
}

// moveTo makes step n (1-based, valid) current and shows it.
func (r *Runner) moveTo(ctx context.Context, s *session, n int) error {
	if err := r.enterStep(ctx, s.client, s.lab, s.prog, n-1); err != nil {
		return err
	}
	if err := s.store.Save(s.prog); err != nil {
		return err
	}
	return r.showStep(s.lab, s.prog)
}

// Move goes delta steps forward or back.
func (r *Runner) Move(ctx context.Context, delta int) error {
	s, err := r.current(true)
	if err != nil {
		return err
	}
	n := s.prog.Step + 1 + delta
	if n < 1 {
		return fmt.Errorf("already at the first step of %s", s.lab.ID)
	}
	if n > len(s.lab.Steps) {
		return fmt.Errorf("already at the last step of %s (%d)", s.lab.ID, len(s.lab.Steps))
	}
	return r.moveTo(ctx, s, n)
}

// Reset deletes the lab's namespace, runs its setup again and starts its
// progress over. name "" means the current lab.
func (r *Runner) Reset(ctx context.Context, name string) error {
	if name == "" {
		s, err := r.current(false)
		if err != nil {
			return err
		}
		name = s.lab.ID
	}
	lab, err := r.Catalog.Find(name)
	if err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	r.Display.Status(fmt.Sprintf("deleting namespace %s", lab.Namespace))
	if err := deleteNamespace(ctx, c, lab.Namespace, 2*time.Minute); err != nil {
		return err
	}
	if err := r.prepare(ctx, c, lab); err != nil {
		return err
	}
	prog := &Progress{Lab: lab.ID, Done: make([]bool, len(lab.Steps))}
	if err := r.enterStep(ctx, c, lab, prog, 0); err != nil {
		return err
	}
	st := r.store()
	if err := st.Save(prog); err != nil {
		return err
	}
	if err := st.SetCurrent(lab.ID); err != nil {
		return err
	}
	if err := r.writeKubeconfigFor(r.Paths.Kubeconfig(), lab.Namespace); err != nil {
		return err
	}
	r.Display.Done(fmt.Sprintf("%s reset to step 1", lab.ID))
	return r.showStep(lab, prog)
}

// LabSummary is one row of `labs list`.
type LabSummary struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Summary  string `json:"summary"`
	Steps    int    `json:"steps"`
	Done     int    `json:"done"`
	Current  bool   `json:"current"`
	Duration string `json:"duration,omitempty"`
	Level    string `json:"level,omitempty"`
}

// List prints the labs with their progress.
func (r *Runner) List(ctx context.Context, asJSON bool) error {
	st := r.store()
	cur, _ := st.Current()
	var rows []LabSummary
	for _, l := range r.Catalog.All() {
		row := LabSummary{ID: l.ID, Title: l.Title, Summary: l.Summary, Steps: len(l.Steps), Current: l.ID == cur, Duration: l.Duration, Level: l.Level}
		if p, err := st.Load(l.ID); err == nil && p != nil {
			row.Done = p.DoneCount()
		}
		rows = append(rows, row)
	}
	if asJSON {
		return writeJSON(r.Out, rows)
	}
	tw := tabwriter.NewWriter(r.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LAB\tTITLE\tSTEPS\tDONE\tLEVEL\tDURATION")
	for _, row := range rows {
		mark := ""
		if row.Current {
			mark = " *"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%d\t%d/%d\t%s\t%s\n", row.ID, mark, row.Title, row.Steps, row.Done, row.Steps, row.Level, row.Duration)
	}
	return tw.Flush()
}

// StatusReport is `labs status --output json`.
type StatusReport struct {
	Cluster    string       `json:"cluster"`
	Running    bool         `json:"running"`
	Kubeconfig string       `json:"kubeconfig,omitempty"`
	Nodes      []NodeStatus `json:"nodes,omitempty"`
	Lab        string       `json:"lab,omitempty"`
	Step       int          `json:"step,omitempty"`
	Steps      int          `json:"steps,omitempty"`
	StepTitle  string       `json:"step_title,omitempty"`
	Error      string       `json:"error,omitempty"`
}

// NodeStatus is one node in `labs status`.
type NodeStatus struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Ready   bool   `json:"ready"`
	Version string `json:"version"`
}

// Status shows the cluster, its nodes, and the current lab and step.
func (r *Runner) Status(ctx context.Context, asJSON bool) error {
	rep := StatusReport{Cluster: r.Cluster.Name()}
	if err := r.Docker.Preflight(ctx); err != nil {
		rep.Error = err.Error()
	} else if ok, err := r.Cluster.Exists(); err != nil {
		rep.Error = err.Error()
	} else if ok {
		rep.Running, rep.Kubeconfig = true, r.Paths.Kubeconfig()
		if c, err := r.client(); err != nil {
			rep.Error = err.Error()
		} else if nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil {
			rep.Error = fmt.Sprintf("API server does not answer: %v", err)
		} else {
			for _, n := range nodes.Items {
				rep.Nodes = append(rep.Nodes, NodeStatus{Name: n.Name, Role: role(&n), Ready: nodeReady(&n), Version: n.Status.NodeInfo.KubeletVersion})
			}
		}
	}
	if s, err := r.current(false); err == nil {
		rep.Lab, rep.Step, rep.Steps, rep.StepTitle = s.lab.ID, s.prog.Step+1, len(s.lab.Steps), s.lab.Steps[s.prog.Step].Title
	}
	if asJSON {
		return writeJSON(r.Out, rep)
	}
	if !rep.Running {
		fmt.Fprintf(r.Out, "cluster %s: not running", rep.Cluster)
		if rep.Error != "" {
			fmt.Fprintf(r.Out, " (%s)", rep.Error)
		}
		fmt.Fprintln(r.Out, "; `labs start LAB` creates it")
	} else {
		fmt.Fprintf(r.Out, "cluster %s: running (kubeconfig %s)\n", rep.Cluster, rep.Kubeconfig)
		if rep.Error != "" {
			fmt.Fprintf(r.Out, "  %s\n", rep.Error)
		}
		tw := tabwriter.NewWriter(r.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NODE\tROLE\tSTATUS\tVERSION")
		for _, n := range rep.Nodes {
			st := "NotReady"
			if n.Ready {
				st = "Ready"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", n.Name, n.Role, st, n.Version)
		}
		tw.Flush()
	}
	if rep.Lab == "" {
		fmt.Fprintln(r.Out, "lab: none started")
	} else {
		fmt.Fprintf(r.Out, "lab: %s, step %d/%d: %s\n", rep.Lab, rep.Step, rep.Steps, rep.StepTitle)
	}
	return nil
}

func role(n *corev1.Node) string {
	if _, ok := n.Labels["node-role.kubernetes.io/control-plane"]; ok {
		return "control-plane"
	}
	return "worker"
}

// Env prints shell lines that point a user's own kubectl at the lab cluster.
func (r *Runner) Env() error {
	if _, err := os.Stat(r.Paths.Kubeconfig()); err != nil {
		return fmt.Errorf("no lab kubeconfig at %s: run `labs start LAB` first", r.Paths.Kubeconfig())
	}
	fmt.Fprintf(r.Out, "export KUBECONFIG=%s\n", shellQuote(r.Paths.Kubeconfig()))
	return nil
}

func shellQuote(s string) string {
	if strings.ContainsAny(s, " '\"$`\\") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}
