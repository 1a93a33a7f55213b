package class

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/runner"
	"github.com/labs-dev/labs/runner/classview"
)

// AnnotationImages on a learner's namespace is the registry the class's
// nodes pull the workload from (class up --registry): the instructor's
// view reads the labs as the learners do.
const AnnotationImages = "labs.dev/images"

// Watcher feeds a class's board on a shared cluster: every learner's
// progress ConfigMap (their events), and the server's own verdict on each
// learner's current step, judged with the same compiled checks on one
// informer per kind across the cluster. A learner is shown past a step
// only when the server saw it pass (or it cannot be judged here, or it
// was done before the server started watching): editing the progress
// ConfigMap gains nothing.
type Watcher struct {
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	Mapper  apimeta.RESTMapper
	Class   string
	// Labs finds a lab by id as the learners' labs read it.
	Labs  func(id string) (*content.Lab, error)
	Board *classview.Board
	// Judged, if set, is told how long each re-judging took (benchmarks).
	Judged func(learners int, took time.Duration)

	mu       sync.Mutex
	learners map[string]*watched // by namespace
	kick     chan struct{}
	started  bool              // the first judging is done
	saved    map[string]string // the vouched record as last written
}

// watched is what the server knows of one learner.
type watched struct {
	name, ns string
	lab      string // current lab, as their progress says
	progress *runner.Progress
	// claimed is the step (0-based) their progress said when last judged.
	claimed int
	// passed[lab][step]: the server saw the step pass while it was current.
	passed map[string]map[int]bool
	// trusted: what the learner's progress said when the server started
	// was taken as said, once (set for learners a server saw before, and
	// for any learner appearing after the start: they get no such credit).
	trusted bool
	// captured are the values the server's own judging captured, by lab.
	captured map[string]map[string]string
	dirty    bool
}

// Run watches until ctx ends. ready, if not nil, is closed once every
// learner has been read and judged once.
func (w *Watcher) Run(ctx context.Context, ready chan<- struct{}) error {
	w.learners = map[string]*watched{}
	w.kick = make(chan struct{}, 1)
	judge := checks.NewJudge(ctx, w.Dynamic, w.Mapper)
	nsInf := informers.NewSharedInformerFactoryWithOptions(w.Client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = selector(w.Class) + "," + LabelLearner
	}))
	cmInf := informers.NewSharedInformerFactoryWithOptions(w.Client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", runner.ProgressConfigMap).String()
	}))
	nsi, cmi := nsInf.Core().V1().Namespaces().Informer(), cmInf.Core().V1().ConfigMaps().Informer()
	nsReg, err := nsi.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.namespace(o) },
		UpdateFunc: func(_, o any) { w.namespace(o) },
	})
	if err != nil {
		return err
	}
	cmReg, err := cmi.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.progress(o) },
		UpdateFunc: func(_, o any) { w.progress(o) },
	})
	if err != nil {
		return err
	}
	// Every learner known (their handler ran) before any progress is read.
	nsInf.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), nsReg.HasSynced) {
		return fmt.Errorf("reading class %s's namespaces: %w", w.Class, ctx.Err())
	}
	cmInf.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), cmReg.HasSynced) {
		return fmt.Errorf("reading class %s's progress: %w", w.Class, ctx.Err())
	}
	defer nsInf.Shutdown()
	defer cmInf.Shutdown()
	if err := w.loadVouched(ctx); err != nil {
		return err
	}
	changed := judge.Changed() // before judging: a change during it wakes the loop
	w.judgeAll(ctx, judge, nil)
	w.mu.Lock()
	w.started = true
	for _, l := range w.learners {
		l.trusted = true
	}
	w.mu.Unlock()
	if ready != nil {
		close(ready)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-w.kick:
		}
		time.Sleep(50 * time.Millisecond) // a burst of changes, judged once
		changed = judge.Changed()
		w.judgeAll(ctx, judge, judge.Dirty())
	}
}

func (w *Watcher) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *Watcher) namespace(o any) {
	ns, ok := o.(*corev1.Namespace)
	if !ok || ns.Labels[LabelClass] != w.Class || ns.Labels[LabelLearner] == "" {
		return
	}
	name := ns.Labels[LabelLearner]
	w.Board.AddLearner(name, ns.Name)
	w.mu.Lock()
	if w.learners[ns.Name] == nil {
		w.learners[ns.Name] = &watched{name: name, ns: ns.Name, passed: map[string]map[int]bool{}, captured: map[string]map[string]string{}, claimed: -1, trusted: w.started}
	}
	w.mu.Unlock()
}

// progress reads a learner's ConfigMap: their events go to the board, and
// their current step is judged again.
func (w *Watcher) progress(o any) {
	cm, ok := o.(*corev1.ConfigMap)
	if !ok || cm.Name != runner.ProgressConfigMap {
		return
	}
	w.mu.Lock()
	l := w.learners[cm.Namespace]
	w.mu.Unlock()
	if l == nil {
		return // not this class's
	}
	current, labs := runner.ReadProgressConfigMap(cm)
	var evs []classview.Event
	for id, p := range labs {
		for _, h := range p.History {
			evs = append(evs, classview.Event{At: h.At, Learner: l.name, Lab: id, Step: h.Step, What: h.What, Detail: h.Detail})
		}
	}
	w.Board.Apply(evs...)
	w.mu.Lock()
	l.lab, l.progress, l.dirty = current, labs[current], true
	w.mu.Unlock()
	w.poke()
}

// judgeAll judges the current step of every learner whose namespace or
// progress changed (all of them when dirty is nil).
func (w *Watcher) judgeAll(ctx context.Context, judge *checks.Judge, dirty map[string]bool) {
	start := time.Now()
	w.mu.Lock()
	var todo []*watched
	for ns, l := range w.learners {
		if dirty == nil || dirty[ns] || l.dirty {
			l.dirty = false
			todo = append(todo, l)
		}
	}
	w.mu.Unlock()
	sort.Slice(todo, func(i, j int) bool { return todo[i].ns < todo[j].ns })
	for _, l := range todo {
		w.judgeOne(ctx, judge, l)
	}
	if w.Judged != nil && len(todo) > 0 {
		w.Judged(len(todo), time.Since(start))
	}
	if len(todo) > 0 {
		w.saveVouched(ctx)
	}
}

// VouchedConfigMap, in the class's accounts namespace (where learners have
// no rights), keeps what the server saw each learner pass: a restarted
// server believes no more than the one before it did.
const VouchedConfigMap = "labs-vouched"

// vouchedRecord is one learner's: lab -> steps (0-based) seen passing.
type vouchedRecord map[string][]int

func (w *Watcher) loadVouched(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // the client has no overall timeout: it watches
	defer cancel()
	cm, err := w.Client.CoreV1().ConfigMaps(AccountsNamespace(w.Class)).Get(ctx, VouchedConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return explainAdmin(fmt.Errorf("reading what the server saw before (%s/%s): %w", AccountsNamespace(w.Class), VouchedConfigMap, err))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for ns, raw := range cm.Data {
		var rec vouchedRecord
		l := w.learners[ns]
		if l == nil || json.Unmarshal([]byte(raw), &rec) != nil {
			continue
		}
		l.trusted = true // seen before: no claim is taken as said again
		for lab, steps := range rec {
			l.passed[lab] = map[int]bool{}
			for _, s := range steps {
				l.passed[lab][s] = true
			}
		}
	}
	return nil
}

// saveVouched writes what changed since the last save; a failure is said
// on the next save's success, never fatal to the view.
func (w *Watcher) saveVouched(ctx context.Context) {
	data := map[string]string{}
	w.mu.Lock()
	for ns, l := range w.learners {
		rec := vouchedRecord{}
		for lab, steps := range l.passed {
			for s, ok := range steps {
				if ok {
					rec[lab] = append(rec[lab], s)
				}
			}
			sort.Ints(rec[lab])
		}
		b, _ := json.Marshal(rec)
		data[ns] = string(b)
	}
	w.mu.Unlock()
	if maps.Equal(data, w.saved) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cms := w.Client.CoreV1().ConfigMaps(AccountsNamespace(w.Class))
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: VouchedConfigMap, Namespace: AccountsNamespace(w.Class),
		Labels: map[string]string{LabelManaged: "labs", LabelClass: w.Class}}, Data: data}
	_, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	}
	if err == nil {
		w.saved = data
	}
}

func (w *Watcher) judgeOne(ctx context.Context, judge *checks.Judge, l *watched) {
	w.mu.Lock()
	labID, p := l.lab, l.progress
	w.mu.Unlock()
	if labID == "" || p == nil {
		return
	}
	if l.passed[labID] == nil {
		l.passed[labID] = map[int]bool{}
	}
	w.Board.Claim(l.name, labID, p.Step+1)
	lab, err := w.Labs(labID)
	if err == nil && (p.Step < 0 || p.Step >= len(lab.Steps)) {
		w.Board.Judged(l.name, labID, p.Step+1, true, false, fmt.Sprintf("their progress claims step %d of a lab of %d steps", p.Step+1, len(lab.Steps)))
		return
	}
	if err != nil {
		// A lab of the learner's own: nothing to judge it by; their word
		// stands.
		var done []int
		for i, d := range p.Done {
			if d {
				l.passed[labID][i] = true
				done = append(done, i+1)
			}
		}
		w.Board.Verify(l.name, labID, done...)
		w.Board.Judged(l.name, labID, p.Step+1, false, false, fmt.Sprintf("the server does not know lab %s (a lab of the learner's own?): their labs' verdicts stand", labID))
		return
	}
	if !l.trusted {
		// Done before any server watched: taken as said, once.
		l.trusted = true
		for i, d := range p.Done {
			if d {
				l.passed[labID][i] = true
			}
		}
	}
	// A move to a later step: the steps left behind count when the server
	// saw them pass, or sees it now (the state still holds), or cannot
	// judge them.
	if l.claimed >= 0 && p.Step > l.claimed {
		for s := l.claimed; s < p.Step; s++ {
			if l.passed[labID][s] {
				continue
			}
			passed, judged, _ := w.evaluate(ctx, judge, l, lab, s, p)
			if passed || !judged {
				l.passed[labID][s] = true
			}
		}
	}
	l.claimed = p.Step
	passed, judged, found := w.evaluate(ctx, judge, l, lab, p.Step, p)
	if passed {
		l.passed[labID][p.Step] = true
	}
	var vouched []int
	for s, ok := range l.passed[labID] {
		if ok {
			vouched = append(vouched, s+1)
		}
	}
	w.Board.Verify(l.name, labID, vouched...)
	w.Board.Judged(l.name, labID, p.Step+1, judged, passed, found)
}

// evaluate judges step i of lab in ns: passed when every check the server
// can judge passes; judged is false when it can judge none.
func (w *Watcher) evaluate(ctx context.Context, judge *checks.Judge, l *watched, lab *content.Lab, i int, p *runner.Progress) (passed, judged bool, found string) {
	// ${NAME}: what the server's own judging captured; a value from the
	// learner's progress only where the server has none and it is a plain
	// name (it goes into expressions); the namespace last.
	vars := map[string]string{}
	for k, v := range p.Captured {
		if plainValue.MatchString(v) {
			vars[k] = v
		}
	}
	for k, v := range l.captured[lab.ID] {
		vars[k] = v
	}
	vars["LAB_NAMESPACE"] = l.ns
	ns := l.ns
	specs := make([]checks.Spec, len(lab.Steps[i].Checks))
	for j, s := range lab.Steps[i].Checks {
		specs[j] = s.Expand(vars)
	}
	var b *checks.Baseline
	if i == p.Step {
		b = p.Baseline
	}
	res, err := judge.Evaluate(ctx, ns, specs, b, "", 30*time.Second)
	if err != nil {
		return false, true, err.Error()
	}
	passed = true
	for _, r := range res {
		if errors.Is(r.Err, checks.ErrNotJudged) {
			continue
		}
		judged = true
		if !r.Passed && passed {
			passed, found = false, r.Sentence()
		}
	}
	if passed && judged {
		if l.captured[lab.ID] == nil {
			l.captured[lab.ID] = map[string]string{}
		}
		for _, r := range res {
			for k, v := range r.Captured {
				l.captured[lab.ID][k] = v
			}
		}
	}
	if !judged {
		return false, false, "this step's checks act on the cluster or read what only the learner's machine has: the learner's own verdict stands"
	}
	return passed, true, found
}

// plainValue is a captured value the server takes from a learner's own
// progress: a name, a number or an address, nothing that could change an
// expression it is put into.
var plainValue = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9._:/]{0,251}[A-Za-z0-9])?$`)

// BoardLabs describes every lab of cat for a board: its steps' titles, and
// how long a step should take (the lab's duration over its steps).
func BoardLabs(cat *runner.Catalog) []classview.Lab {
	var out []classview.Lab
	for _, e := range cat.Entries() {
		l := e.In(cat.Lang)
		bl := classview.Lab{ID: l.ID, Title: l.Title}
		for _, s := range l.Steps {
			bl.Steps = append(bl.Steps, s.Title)
		}
		if d, err := time.ParseDuration(l.Duration); err == nil && len(l.Steps) > 0 {
			bl.StepTime = d / time.Duration(len(l.Steps))
		}
		out = append(out, bl)
	}
	return out
}

// Images is the registry class's learners' labs name the workload in
// ("" when the nodes have it loaded), as class up recorded it.
func Images(ctx context.Context, c kubernetes.Interface, class string) (string, error) {
	nss, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: selector(class) + "," + LabelLearner, Limit: 1})
	if err != nil {
		return "", explainAdmin(fmt.Errorf("reading class %s: %w", class, err))
	}
	if len(nss.Items) == 0 {
		return "", fmt.Errorf("class %s has no learners (`labs class list` shows the classes; `labs class up --class %s --learners N` makes it)", class, class)
	}
	return nss.Items[0].Annotations[AnnotationImages], nil
}
