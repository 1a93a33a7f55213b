package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/labs-dev/labs/checks"
)

// EventLine is one Kubernetes event as labs shows it.
type EventLine struct {
	Time      time.Time `json:"time"`
	Namespace string    `json:"namespace"`
	Type      string    `json:"type"` // Normal or Warning
	Reason    string    `json:"reason"`
	Object    string    `json:"object"` // Kind/name
	Message   string    `json:"message"`
	Count     int32     `json:"count"`
}

// Warning reports whether the event is a warning (probe failed, back-off,
// OOM): what a learner should look at first.
func (e EventLine) Warning() bool { return e.Type == corev1.EventTypeWarning }

// String is the event on one line; withNS adds its namespace (-A).
func (e EventLine) String(withNS bool) string {
	ns := ""
	if withNS {
		ns = e.Namespace + "  "
	}
	count := ""
	if e.Count > 1 {
		count = fmt.Sprintf(" (x%d)", e.Count)
	}
	return fmt.Sprintf("%s  %s%-7s  %s  %s  %s%s", e.Time.Local().Format("15:04:05"), ns, e.Type, e.Reason, e.Object, strings.TrimSpace(e.Message), count)
}

func eventLine(ev *corev1.Event) EventLine {
	t := ev.LastTimestamp.Time
	if t.IsZero() {
		t = ev.EventTime.Time
	}
	if t.IsZero() {
		t = ev.CreationTimestamp.Time
	}
	count := ev.Count
	if ev.Series != nil && ev.Series.Count > count {
		count = ev.Series.Count
	}
	return EventLine{Time: t, Namespace: ev.Namespace, Type: ev.Type, Reason: ev.Reason,
		Object: ev.InvolvedObject.Kind + "/" + ev.InvolvedObject.Name, Message: ev.Message, Count: count}
}

// oomKills are a pod's containers killed for memory, as event lines keyed
// by container and time: Kubernetes writes them only into the pod's status.
func oomKills(p *corev1.Pod) map[string]EventLine {
	out := map[string]EventLine{}
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		for _, t := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
			if t == nil || t.Reason != "OOMKilled" {
				continue
			}
			key := fmt.Sprintf("oom/%s/%s/%s", p.UID, cs.Name, t.FinishedAt.UTC().Format(time.RFC3339Nano))
			out[key] = EventLine{Time: t.FinishedAt.Time, Namespace: p.Namespace, Type: corev1.EventTypeWarning, Reason: "OOMKilled",
				Object: "Pod/" + p.Name, Count: 1,
				Message: fmt.Sprintf("container %s was killed for memory (exit code %d, restarts %d; from the pod's status)", cs.Name, t.ExitCode, cs.RestartCount)}
		}
	}
	return out
}

// terminationsOnly is an informer transform: a pod reduced to what
// oomKills reads (its names and its containers' statuses).
func terminationsOnly(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion},
		Status:     corev1.PodStatus{InitContainerStatuses: p.Status.InitContainerStatuses, ContainerStatuses: p.Status.ContainerStatuses},
	}, nil
}

// EventsOptions select which events streamEvents shows.
type EventsOptions struct {
	Namespace string // "" for every namespace
	Warnings  bool
	// Recent is how many past events to show first, oldest first.
	Recent int
}

// streamEvents calls emit for the most recent past events, oldest first,
// then for each new event or repetition (its count grew) as it happens,
// until ctx ends. It watches through an informer: a lost connection (the
// cluster stopped) is relisted when the API server is back, and nothing is
// shown twice.
func streamEvents(ctx context.Context, c kubernetes.Interface, opts EventsOptions, emit func(EventLine)) error {
	tweak := func(lo *metav1.ListOptions) {
		if opts.Warnings {
			lo.FieldSelector = fields.OneTermEqualSelector("type", corev1.EventTypeWarning).String()
		}
	}
	f := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(opts.Namespace), informers.WithTweakListOptions(tweak),
		informers.WithTransform(checks.DropManagedFields))
	inf := f.Core().V1().Events().Informer()
	// Kubernetes records no event when a container is OOM-killed (only
	// the pod's status says so): pods are watched for that too, kept as
	// no more than oomKills reads (a namespace may hold hundreds).
	podsF := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(opts.Namespace),
		informers.WithTransform(terminationsOnly))
	pods := podsF.Core().V1().Pods().Informer()
	var mu sync.Mutex
	seen := map[string]int32{} // event UID (or pod/container/finish time) -> count shown
	synced := false
	var backlog []EventLine
	add := func(key string, l EventLine) {
		mu.Lock()
		defer mu.Unlock()
		if n, ok := seen[key]; ok && n >= l.Count {
			return
		}
		seen[key] = l.Count
		if !synced {
			backlog = append(backlog, l)
			return
		}
		emit(l)
	}
	show := func(obj any) {
		if ev, ok := obj.(*corev1.Event); ok {
			add(string(ev.UID), eventLine(ev))
		}
	}
	showOOM := func(obj any) {
		if p, ok := obj.(*corev1.Pod); ok {
			for key, l := range oomKills(p) {
				add(key, l)
			}
		}
	}
	handlers := []struct {
		inf cache.SharedIndexInformer
		fn  func(any)
	}{{inf, show}, {pods, showOOM}}
	for _, h := range handlers {
		fn := h.fn
		if _, err := h.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: fn, UpdateFunc: func(_, obj any) { fn(obj) }}); err != nil {
			return err
		}
	}
	// Both factories apart: the events' field selector means nothing to pods.
	f.Start(ctx.Done())
	defer f.Shutdown()
	podsF.Start(ctx.Done())
	defer podsF.Shutdown()
	syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), inf.HasSynced, pods.HasSynced) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		where := "namespace " + opts.Namespace
		if opts.Namespace == "" {
			where = "every namespace"
		}
		return fmt.Errorf("expected the events and pods of %s read within 30s; they were not (the API server is slow, or refuses you: `labs kubectl get events` shows which)", where)
	}
	mu.Lock()
	sort.SliceStable(backlog, func(i, j int) bool { return backlog[i].Time.Before(backlog[j].Time) })
	if len(backlog) > opts.Recent {
		backlog = backlog[len(backlog)-opts.Recent:]
	}
	for _, l := range backlog {
		emit(l)
	}
	synced, backlog = true, nil
	mu.Unlock()
	<-ctx.Done()
	return nil
}

// Events streams a namespace's events (the current lab's, or every
// namespace's), one line each, until Ctrl-C.
func (r *Runner) Events(ctx context.Context, opts EventsOptions, all, asJSON bool) error {
	if all && r.target().Mode() != "kind" {
		return fmt.Errorf("`labs events -A` reads every namespace, and on a class cluster (%s) you may read your own only: `labs events` shows it", describeTarget(r.target()))
	}
	if !all && opts.Namespace == "" {
		s, err := r.current(ctx)
		if err != nil {
			return err
		}
		opts.Namespace = r.ns(s.lab)
	}
	c, err := r.streamClient()
	if err != nil {
		return err
	}
	if err := r.reachable(ctx, c, 10*time.Second); err != nil {
		return err
	}
	where := "namespace " + opts.Namespace
	if opts.Namespace == "" {
		where = "every namespace"
	}
	r.Display.Status(fmt.Sprintf("events of %s as they happen (Ctrl-C to stop)", where))
	return streamEvents(ctx, c, opts, func(l EventLine) { r.printEvent(r.Out, l, opts.Namespace == "", asJSON) })
}

func (r *Runner) printEvent(w io.Writer, l EventLine, withNS, asJSON bool) {
	if asJSON {
		_ = writeJSONLine(w, l)
		return
	}
	s := l.String(withNS)
	if l.Warning() {
		s = r.Style.Red(s)
	}
	fmt.Fprintln(w, s)
}

// writeJSONLine writes v as one line of JSON (a stream a machine reads
// line by line).
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
