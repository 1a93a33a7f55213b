package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
)

// ErrNoSession means no lab was started.
var ErrNoSession = errors.New("no lab started: run `labs start LAB` (see `labs list`)")

// session is the current lab and the learner's progress in it, as read
// now. Changes go through Store.Update, never by saving this copy back.
type session struct {
	lab  *content.Lab
	prog *Progress
}

func (r *Runner) store() ProgressStore {
	s := r.target().Store()
	if r.Reporting != nil {
		return reportingStore{ProgressStore: s, r: r}
	}
	return s
}

// fileStore is the progress files of the kind target.
func (r *Runner) fileStore() Store {
	return Store{Dir: r.Paths.StateDir, Lock: r.Paths.progressLock()}
}

// current reads the current lab and its progress, made to fit the lab.
func (r *Runner) current(ctx context.Context) (*session, error) {
	st := r.store()
	id, file, err := st.Current(ctx)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, ErrNoSession
	}
	lab, err := r.findCurrent(id, file)
	if err != nil {
		return nil, err
	}
	prog, err := st.Load(ctx, lab.ID)
	if err != nil {
		return nil, err
	}
	if prog == nil {
		return nil, ErrNoSession
	}
	prog.fit(lab)
	return &session{lab: lab, prog: prog}, nil
}

// findCurrent finds the current lab: a built-in one by id, or the file it
// was started from.
func (r *Runner) findCurrent(id, file string) (*content.Lab, error) {
	if file == "" {
		return r.Catalog.Find(id)
	}
	lab, err := r.Catalog.Find(file)
	if err != nil {
		return nil, fmt.Errorf("the current lab %s was started from %s, which cannot be read now (%w); `labs start LAB` starts another", id, file, err)
	}
	return lab, nil
}

// findNamed finds the lab a learner names (an id or a lab file) and the
// file later commands read it from: its path for a lab file or a lab of
// --labs-dir, so they need no flag; "" for a built-in lab.
func (r *Runner) findNamed(name string) (*content.Lab, string, error) {
	lab, err := r.Catalog.Find(name)
	if err != nil {
		return nil, "", err
	}
	file := r.Catalog.FileOf(name)
	if IsLabFile(name) {
		if file, err = filepath.Abs(name); err != nil {
			return nil, "", fmt.Errorf("finding lab file %s: %w", name, err)
		}
	}
	return lab, file, nil
}

// Start brings up the cluster (or reuses or resumes it), prepares the lab's
// namespace and shows the current step: a new lab starts at step 1, a
// started one resumes where the learner stopped. name is a lab id or the
// path of a lab file.
func (r *Runner) Start(ctx context.Context, name string) error {
	lab, file, err := r.findNamed(name)
	if err != nil {
		return err
	}
	t := r.target()
	if err := t.Allow(lab); err != nil {
		return err
	}
	c, err := t.Ensure(ctx)
	if err != nil {
		return err
	}
	st := r.store()
	ns := r.ns(lab)
	prevID, _, _ := st.Current(ctx)
	r.leavePrevious(ctx, lab)
	// On a class cluster every lab shares the learner's one namespace: a
	// lab starts on an empty one, not on the last lab's objects.
	switching := t.Mode() != "kind" && prevID != "" && prevID != lab.ID
	if switching {
		r.Display.Status(fmt.Sprintf("emptying namespace %s of %s's objects", ns, prevID))
		if err := t.Wipe(ctx, c, ns); err != nil {
			return err
		}
		// The namespace holds no lab now: the one being started is the
		// one to restore, even if its setup fails below.
		if err := st.SetCurrent(ctx, lab.ID, file); err != nil {
			return err
		}
	}
	prog, err := st.Load(ctx, lab.ID)
	if errors.Is(err, ErrDamaged) {
		r.Display.Status(fmt.Sprintf("%v: starting %s again from step 1", err, lab.ID))
		prog, err = nil, nil
	}
	if err != nil {
		return err
	}
	if err := r.writeKubeconfigFor(r.Paths.Kubeconfig(), ns); err != nil {
		return err
	}
	switch {
	case prog == nil:
		if _, err := r.prepare(ctx, c, lab); err != nil {
			return err
		}
		if prog, err = r.begin(ctx, c, lab); err != nil {
			return err
		}
	default:
		fresh, err := r.target().Prepare(ctx, c, ns)
		if err != nil {
			return err
		}
		prog.fit(lab)
		if fresh || switching {
			if err := r.setupLab(ctx, lab, ns); err != nil {
				return err
			}
			// A rebuilt cluster (labs down, then start): the progress is
			// the learner's, the objects are gone. The reference
			// solutions of the steps before the current one put them back.
			if prog, err = r.restore(ctx, c, lab, prog); err != nil {
				return err
			}
		} else {
			r.Display.Status(fmt.Sprintf(r.tr("resuming %s at step %d of %d"), lab.ID, prog.Step+1, len(lab.Steps)))
		}
	}
	if err := st.SetCurrent(ctx, lab.ID, file); err != nil {
		return err
	}
	if prog.Step == 0 && !lab.Intro.Empty() {
		fmt.Fprintf(r.Out, "%s  %s\n\n", r.Style.Bold(lab.Title), r.Style.Dim(fmt.Sprintf(r.tr("(%d steps, %s)"), len(lab.Steps), lab.Duration)))
		if err := content.Render(r.Out, lab.Intro, r.styleFor(lab, ns, nil)); err != nil {
			return err
		}
		fmt.Fprintln(r.Out)
	}
	return r.showStep(lab, prog)
}

// leavePrevious runs the cleanup of the lab the learner leaves for next,
// so a cordoned node or a taint does not follow them into another lab.
func (r *Runner) leavePrevious(ctx context.Context, next *content.Lab) {
	id, file, err := r.store().Current(ctx)
	if err != nil || id == "" || id == next.ID {
		return
	}
	prev, err := r.findCurrent(id, file)
	if err != nil || len(prev.Cleanup) == 0 {
		return
	}
	if err := r.cleanup(ctx, prev, r.ns(prev), r.ErrOut); err != nil {
		r.Display.Fail(fmt.Sprintf("cleaning up after %s failed (%v); `labs reset %s` tries again", prev.ID, err, prev.ID))
	}
}

// restore rebuilds a lab's namespace on a cluster that lacks it: setup,
// then the reference solution of every step before the current one. A
// solution that fails stops the restore there, and that step becomes the
// current one, so the learner redoes it.
func (r *Runner) restore(ctx context.Context, c kubernetes.Interface, lab *content.Lab, prog *Progress) (*Progress, error) {
	ns := r.ns(lab)
	// The reference solutions may drain or cordon nodes and wait for
	// pods: on a new cluster its nodes must be Ready first.
	if prog.Step > 0 {
		if err := r.settle(ctx, c); err != nil {
			return nil, err
		}
	}
	r.Display.Status(fmt.Sprintf("namespace %s is not on this cluster (it was rebuilt): restoring %s up to step %d (%d of %d steps done)", ns, lab.ID, prog.Step+1, prog.DoneCount(), len(lab.Steps)))
	env, err := r.newScriptEnv(ns, prog.Captured)
	if err != nil {
		return nil, err
	}
	defer env.Close()
	at := prog.Step
	for i := 0; i < prog.Step; i++ {
		r.Display.Status(fmt.Sprintf("restoring step %d: %s (its reference solution)", i+1, lab.Steps[i].Title))
		err := r.runStepSetup(ctx, lab, i, ns, prog.Captured, io.Discard)
		if err == nil {
			err = env.run(ctx, lab.Steps[i].Solve, io.Discard, solveTimeout)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r.Display.Fail(fmt.Sprintf("step %d could not be restored (%v): continue from there", i+1, err))
			at = i
			break
		}
	}
	if err := r.runStepSetup(ctx, lab, at, ns, prog.Captured, r.ErrOut); err != nil {
		return nil, err
	}
	b, err := r.baseline(ctx, lab, at, prog.Captured)
	if err != nil {
		return nil, err
	}
	prog.enter(at, b)
	if err := r.store().Save(ctx, lab.ID, prog); err != nil {
		return nil, err
	}
	r.Display.Done(fmt.Sprintf("%s restored: you are at step %d of %d", lab.ID, at+1, len(lab.Steps)))
	return prog, nil
}

// IsLabFile reports whether a lab argument names a file rather than a
// built-in lab.
func IsLabFile(name string) bool { return strings.HasSuffix(name, ".md") }

// begin writes a lab's progress at step 1, replacing whatever was there.
func (r *Runner) begin(ctx context.Context, c kubernetes.Interface, lab *content.Lab) (*Progress, error) {
	if err := r.runStepSetup(ctx, lab, 0, r.ns(lab), nil, r.ErrOut); err != nil {
		return nil, err
	}
	b, err := r.baseline(ctx, lab, 0, nil)
	if err != nil {
		return nil, err
	}
	prog := newProgress(lab)
	prog.enter(0, b)
	if err := r.store().Save(ctx, lab.ID, prog); err != nil {
		return nil, err
	}
	return prog, nil
}

// baseline records the lab's namespace as step i starts, with what the
// step's checks compare with later.
func (r *Runner) baseline(ctx context.Context, lab *content.Lab, i int, captured map[string]string) (*checks.Baseline, error) {
	c, err := r.client()
	if err != nil {
		return nil, err
	}
	ns := r.ns(lab)
	eng, err := r.newEngine(c, ns, nil)
	if err != nil {
		return nil, err
	}
	return eng.TakeBaseline(ctx, r.stepChecks(lab, i, ns, captured))
}

// prepare makes the lab's namespace ready and, when it did not hold the
// lab (fresh), runs the lab's setup there.
func (r *Runner) prepare(ctx context.Context, c kubernetes.Interface, lab *content.Lab) (fresh bool, err error) {
	ns := r.ns(lab)
	if fresh, err = r.target().Prepare(ctx, c, ns); err != nil {
		return false, err
	}
	return fresh, r.setupLab(ctx, lab, ns)
}

// setupLab runs the lab's own setup in ns.
func (r *Runner) setupLab(ctx context.Context, lab *content.Lab, ns string) error {
	if len(lab.Setup) == 0 {
		return nil
	}
	r.Display.Status(fmt.Sprintf("running the setup of %s", lab.ID))
	env, err := r.newScriptEnv(ns, nil)
	if err != nil {
		return err
	}
	defer env.Close()
	return r.setup(ctx, env, lab, r.ErrOut)
}

func (r *Runner) showStep(lab *content.Lab, prog *Progress) error {
	s := lab.Steps[prog.Step]
	fmt.Fprintf(r.Out, "%s\n\n", r.Style.Bold(fmt.Sprintf(r.tr("Step %d/%d: %s"), prog.Step+1, len(lab.Steps), s.Title)))
	if err := content.Render(r.Out, s.Prose, r.styleFor(lab, r.ns(lab), prog.Captured)); err != nil {
		return err
	}
	fmt.Fprintf(r.Out, "\n%s\n", r.Style.Dim(r.tr("When you are done, run `labs check`. Stuck? `labs hint`.")))
	return nil
}

// Show prints the current step.
func (r *Runner) Show(ctx context.Context) error {
	s, err := r.current(ctx)
	if err != nil {
		return err
	}
	return r.showStep(s.lab, s.prog)
}

// Hint prints the current step's hint.
func (r *Runner) Hint(ctx context.Context) error {
	s, err := r.current(ctx)
	if err != nil {
		return err
	}
	h := strings.TrimSpace(r.styleFor(s.lab, r.ns(s.lab), s.prog.Captured).Expand(s.lab.Steps[s.prog.Step].Hint))
	if h == "" {
		h = r.tr("This step has no hint. `labs solve` runs the reference solution.")
	}
	fmt.Fprintln(r.Out, h)
	return r.noteStep(ctx, s, "hint", "")
}

// Solve prints and runs the current step's reference solution.
func (r *Runner) Solve(ctx context.Context) error {
	s, err := r.current(ctx)
	if err != nil {
		return err
	}
	step := s.lab.Steps[s.prog.Step]
	fmt.Fprintf(r.Out, "%s\n", r.Style.Dim(fmt.Sprintf(r.tr("Reference solution of step %d:"), s.prog.Step+1)))
	for _, l := range strings.Split(strings.TrimRight(step.Solve, "\n"), "\n") {
		fmt.Fprintln(r.Out, "    "+r.Style.Cyan(l))
	}
	fmt.Fprintln(r.Out)
	env, err := r.newScriptEnv(r.ns(s.lab), s.prog.Captured)
	if err != nil {
		return err
	}
	defer env.Close()
	if err := r.noteStep(ctx, s, "solve", ""); err != nil {
		return err
	}
	if err := env.run(ctx, step.Solve, r.ErrOut, solveTimeout); err != nil {
		return fmt.Errorf("step %d solution: %w", s.prog.Step+1, err)
	}
	if a := env.takeAnswer(); a != "" {
		if err := r.setAnswer(ctx, s, a); err != nil {
			return err
		}
		fmt.Fprintf(r.Out, r.tr("Solution applied; its answer is %s. Run `labs check` to verify it.")+"\n", a)
		return nil
	}
	fmt.Fprintln(r.Out, r.tr("Solution applied. Run `labs check` to verify it."))
	return nil
}

// Answer records the learner's answer to the current step's question and
// checks the step with it.
func (r *Runner) Answer(ctx context.Context, value string, opts CheckOptions) error {
	s, err := r.current(ctx)
	if err != nil {
		return err
	}
	if !hasAnswerCheck(s.lab.Steps[s.prog.Step]) {
		return fmt.Errorf("step %d asks no question: `labs check` checks it", s.prog.Step+1)
	}
	if err := r.setAnswer(ctx, s, strings.TrimSpace(value)); err != nil {
		return err
	}
	return r.Check(ctx, opts)
}

// setAnswer keeps an answer for the step s is on, if the learner is still
// there.
func (r *Runner) setAnswer(ctx context.Context, s *session, value string) error {
	return r.store().Update(ctx, s.lab.ID, func(cur *Progress) (*Progress, error) {
		if cur == nil {
			return nil, ErrNoSession
		}
		cur.fit(s.lab)
		if cur.Step != s.prog.Step {
			// Not ErrStepMoved: nothing was printed about it yet.
			return nil, fmt.Errorf("the step changed in another terminal (you are now at step %d): answer again there", cur.Step+1)
		}
		cur.Answer = value
		cur.note("answer", value)
		return cur, nil
	})
}

// noteStep records what the learner did in the step s is on (a hint, a
// solve); nothing when another terminal moved them meanwhile.
func (r *Runner) noteStep(ctx context.Context, s *session, what, detail string) error {
	return r.store().Update(ctx, s.lab.ID, func(cur *Progress) (*Progress, error) {
		if cur == nil {
			return nil, nil
		}
		cur.fit(s.lab)
		if !cur.sameStep(s.prog) {
			return nil, nil
		}
		cur.note(what, detail)
		return cur, nil
	})
}

func hasAnswerCheck(step content.Step) bool {
	for _, c := range step.Checks {
		if c.Type == "answer" {
			return true
		}
	}
	return false
}

const solveTimeout = 5 * time.Minute

// Goto moves to step n (1-based) and shows it. Earlier steps' objects stay
// as they are; `labs solve` on each catches up.
func (r *Runner) Goto(ctx context.Context, n int) error {
	s, err := r.current(ctx)
	if err != nil {
		return err
	}
	if n < 1 || n > len(s.lab.Steps) {
		return fmt.Errorf("step %d does not exist: %s has steps 1 to %d", n, s.lab.ID, len(s.lab.Steps))
	}
	return r.moveTo(ctx, s.lab, n-1, s.prog.Captured)
}

// Move goes delta steps forward or back.
func (r *Runner) Move(ctx context.Context, delta int) error {
	s, err := r.current(ctx)
	if err != nil {
		return err
	}
	n := s.prog.Step + delta
	if n < 0 {
		return fmt.Errorf("already at the first step of %s", s.lab.ID)
	}
	if n >= len(s.lab.Steps) {
		return fmt.Errorf("already at the last step of %s (%d)", s.lab.ID, len(s.lab.Steps))
	}
	return r.moveTo(ctx, s.lab, n, s.prog.Captured)
}

// moveTo makes step i (0-based, valid) current with a fresh baseline, and
// shows it. It holds the claim on moving (as a passing labs check does),
// so no two commands run step setups at once.
func (r *Runner) moveTo(ctx context.Context, lab *content.Lab, i int, captured map[string]string) error {
	c, err := r.client()
	if err != nil {
		return err
	}
	release, err := r.lockAdvance(ctx)
	if err != nil {
		return fmt.Errorf("claiming the move to step %d: %w", i+1, err)
	}
	defer release()
	if err := r.runStepSetup(ctx, lab, i, r.ns(lab), captured, r.ErrOut); err != nil {
		return r.explainUnreachable(ctx, c, err)
	}
	b, err := r.baseline(ctx, lab, i, captured)
	if err != nil {
		return r.explainUnreachable(ctx, c, err)
	}
	var prog *Progress
	err = r.store().Update(ctx, lab.ID, func(cur *Progress) (*Progress, error) {
		if cur == nil {
			return nil, ErrNoSession
		}
		cur.fit(lab)
		cur.enter(i, b)
		prog = cur
		return cur, nil
	})
	if err != nil {
		return err
	}
	return r.showStep(lab, prog)
}

// explainUnreachable turns a failed request into the one sentence about an
// API server that does not answer, when that is the cause.
func (r *Runner) explainUnreachable(ctx context.Context, c kubernetes.Interface, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if rerr := r.reachable(ctx, c, 5*time.Second); rerr != nil {
		return rerr
	}
	return err
}

// Reset deletes the lab's namespace, runs its setup again and starts its
// progress over. name "" means the current lab.
func (r *Runner) Reset(ctx context.Context, name string) error {
	var lab *content.Lab
	file := ""
	if name == "" {
		st := r.store()
		id, f, err := st.Current(ctx)
		if err != nil {
			return err
		}
		if id == "" {
			return ErrNoSession
		}
		if lab, err = r.findCurrent(id, f); err != nil {
			return err
		}
		file = f
	} else {
		var err error
		if lab, file, err = r.findNamed(name); err != nil {
			return err
		}
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	if err := r.reachable(ctx, c, 10*time.Second); err != nil {
		return err
	}
	t := r.target()
	if err := t.Allow(lab); err != nil {
		return err
	}
	ns := r.ns(lab)
	if err := r.cleanup(ctx, lab, ns, r.ErrOut); err != nil {
		return err
	}
	r.Display.Status(fmt.Sprintf("emptying namespace %s", ns))
	if err := t.Wipe(ctx, c, ns); err != nil {
		return err
	}
	if _, err := t.Prepare(ctx, c, ns); err != nil {
		return err
	}
	if err := r.setupLab(ctx, lab, ns); err != nil {
		return err
	}
	prog, err := r.begin(ctx, c, lab)
	if err != nil {
		return err
	}
	if err := r.store().SetCurrent(ctx, lab.ID, file); err != nil {
		return err
	}
	if err := r.writeKubeconfigFor(r.Paths.Kubeconfig(), ns); err != nil {
		return err
	}
	r.Display.Done(fmt.Sprintf("%s reset to step 1", lab.ID))
	return r.showStep(lab, prog)
}
