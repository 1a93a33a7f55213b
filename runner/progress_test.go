package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// writeProgress puts a hand-made progress file in place, as an older labs,
// an editor or a crash could leave it.
func writeProgress(t *testing.T, r *Runner, lab, body string) {
	t.Helper()
	st := r.fileStore()
	if err := writeAtomic(st.file(lab), []byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := st.SetCurrent(context.Background(), lab, ""); err != nil {
		t.Fatal(err)
	}
}

// No progress file makes a command panic: a negative step, a step past the
// end, a done list shorter than the lab (a step added by an upgrade) and
// passed checks that do not exist are made to fit the lab on load.
func TestProgressFileCannotPanic(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"negative step", `{"lab":"demo","step":-5,"done":[false,false]}`},
		{"step past the end", `{"lab":"demo","step":99,"done":[false,false]}`},
		{"done shorter than the lab", `{"lab":"demo","step":0,"done":[]}`},
		{"done longer than the lab", `{"lab":"demo","step":1,"done":[true,true,true,true]}`},
		{"passed checks that do not exist", `{"lab":"demo","step":0,"done":[false,false],"passed":[-1,7]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewSimpleClientset(readyNode())
			r, _, out := newTestRunner(t, client, fakeDocker{})
			writeProgress(t, r, "demo", tc.body)
			ctx := context.Background()
			for _, cmd := range []struct {
				name string
				run  func() error
			}{
				{"show", func() error { return r.Show(ctx) }},
				{"hint", func() error { return r.Hint(ctx) }},
				{"status", func() error { return r.Status(ctx, false) }},
				{"list", func() error { return r.List(ctx, false) }},
			} {
				if err := cmd.run(); err != nil {
					t.Errorf("%s: %v", cmd.name, err)
				}
			}
			// The moment a step passes, its done flag is written: the list
			// must be long enough.
			two := int32(2)
			three := int32(3)
			for _, n := range []*int32{&two, &three} {
				d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "demo"}, Spec: appsv1.DeploymentSpec{Replicas: n}, Status: appsv1.DeploymentStatus{AvailableReplicas: *n}}
				deleteDeployment(r, "demo", "web")
				createObject(t, r, d)
				err := r.Check(ctx, CheckOptions{Timeout: 200 * time.Millisecond})
				if err != nil && !errors.Is(err, ErrChecksFailed) {
					t.Fatalf("check: %v\n%s", err, out)
				}
			}
			p, err := r.store().Load(context.Background(), "demo")
			if err != nil || len(p.Done) != 2 || p.Step < 0 || p.Step > 1 {
				t.Errorf("after check: %+v, %v", p, err)
			}
		})
	}
}

// A progress file whose "lab" field names another lab is saved as the lab
// its file name says, never over the other lab's progress.
func TestProgressLabFieldIsNotTrusted(t *testing.T) {
	client := fake.NewSimpleClientset(readyNode())
	r, _, _ := newTestRunner(t, client, fakeDocker{})
	other := `{"lab":"other","step":3,"done":[true,true,true,false]}`
	if err := writeAtomic(r.fileStore().file("other"), []byte(other)); err != nil {
		t.Fatal(err)
	}
	writeProgress(t, r, "demo", `{"lab":"other","step":0,"done":[false,false]}`)
	if err := r.Move(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(r.fileStore().file("other"))
	if string(b) != other {
		t.Errorf("the other lab's progress was overwritten:\n%s", b)
	}
	p, _ := r.store().Load(context.Background(), "demo")
	if p.Lab != "demo" || p.Step != 1 {
		t.Errorf("demo progress = %+v", p)
	}
}

// A damaged progress file is said, not hidden, by status and list.
func TestDamagedProgressIsReported(t *testing.T) {
	r, _, out := newTestRunner(t, fake.NewSimpleClientset(), fakeDocker{})
	writeProgress(t, r, "demo", `{"lab": "demo", "step": `)
	ctx := context.Background()
	if err := r.List(ctx, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "damaged") || !strings.Contains(out.String(), "labs reset demo") {
		t.Errorf("list hides the damage:\n%s", out)
	}
	out.Reset()
	if err := r.Status(ctx, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "lab: demo: progress file is damaged") || !strings.Contains(out.String(), "labs reset demo") {
		t.Errorf("status hides the damage:\n%s", out)
	}
	if err := r.Show(ctx); !errors.Is(err, ErrDamaged) {
		t.Errorf("show = %v, want ErrDamaged", err)
	}
}

// Lost updates: a `labs check` that waits while the learner runs `labs next`
// in another terminal must not write its stale copy back.
func TestCheckDoesNotUndoAConcurrentMove(t *testing.T) {
	client := fake.NewSimpleClientset(readyNode())
	r, _, out := newTestRunner(t, client, fakeDocker{})
	ctx := context.Background()
	if err := r.Start(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Check(ctx, CheckOptions{Timeout: 20 * time.Second}) }()
	time.Sleep(300 * time.Millisecond) // the check is waiting for Deployment web
	if err := r.Move(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// Now the state that step 1 waits for appears: the check passes, but
	// the learner is on step 2 and must stay there, with step 1 not done.
	two := int32(2)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "demo"}, Spec: appsv1.DeploymentSpec{Replicas: &two}, Status: appsv1.DeploymentStatus{AvailableReplicas: 2}}
	createObject(t, r, d)
	err := <-done
	if !errors.Is(err, ErrStepMoved) {
		t.Fatalf("check = %v, want ErrStepMoved\n%s", err, out)
	}
	p, _ := r.store().Load(context.Background(), "demo")
	if p.Step != 1 || p.Done[0] || p.Done[1] {
		t.Errorf("progress after a check raced a move: %+v", p)
	}
	if !strings.Contains(out.String(), "The step changed in another terminal") {
		t.Errorf("output does not say why nothing was recorded:\n%s", out)
	}
}

// Update serialises read-modify-write: concurrent updates all land.
func TestStoreUpdateIsAtomic(t *testing.T) {
	r, _, _ := newTestRunner(t, fake.NewSimpleClientset(), fakeDocker{})
	st := r.store()
	ctx := context.Background()
	if err := st.Save(ctx, "demo", &Progress{Done: make([]bool, 2)}); err != nil {
		t.Fatal(err)
	}
	const n = 20
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			errs <- st.Update(ctx, "demo", func(p *Progress) (*Progress, error) {
				p.Passed = append(p.Passed, len(p.Passed))
				return p, nil
			})
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	p, _ := st.Load(context.Background(), "demo")
	if len(p.Passed) != n {
		t.Errorf("%d of %d concurrent updates landed", len(p.Passed), n)
	}
}

// A lab started from a file (an author's draft) stays the current lab:
// later commands read the same file, and say so when it is gone.
func TestStartFromAFile(t *testing.T) {
	client := fake.NewSimpleClientset(readyNode())
	r, _, out := newTestRunner(t, client, fakeDocker{})
	draft := filepath.Join(t.TempDir(), "draft.md")
	if err := os.WriteFile(draft, []byte(strings.ReplaceAll(demoLab, "id: demo", "id: draft")), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.Start(ctx, draft); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := r.Show(ctx); err != nil {
		t.Fatalf("show after starting a file: %v", err)
	}
	if !strings.Contains(out.String(), "Step 1/2: Scale") {
		t.Errorf("show:\n%s", out)
	}
	if err := r.Move(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(draft); err != nil {
		t.Fatal(err)
	}
	err := r.Show(ctx)
	if err == nil || !strings.Contains(err.Error(), "the current lab draft was started from "+draft+", which cannot be read now") {
		t.Errorf("show after the file is gone = %v", err)
	}
}

// Defect: `labs reset LAB --labs-dir DIR` recorded the lab without its
// file, so later commands (without the flag) could not find it. Reset
// records the file as start does.
func TestResetOfALabFromAFolderKeepsItsFile(t *testing.T) {
	client := fake.NewSimpleClientset(readyNode())
	r, _, out := newTestRunner(t, client, fakeDocker{})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "other.md"), demoIn("other", "Other"), 0o600); err != nil {
		t.Fatal(err)
	}
	builtin := r.Catalog
	withDir, err := LoadCatalog(Source{Origin: BuiltIn, FS: fstest.MapFS{"demo.md": {Data: []byte(demoLab)}}}, Source{Origin: dir, FS: os.DirFS(dir)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r.Catalog = withDir // labs reset other --labs-dir DIR
	if err := r.Reset(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	r.Catalog = builtin // a later command, without the flag
	out.Reset()
	if err := r.Show(ctx); err != nil {
		t.Fatalf("show after a reset of a lab from a folder: %v", err)
	}
	if !strings.Contains(out.String(), "Step 1/") {
		t.Errorf("show:\n%s", out)
	}
}
