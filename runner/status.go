package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"time"

	"github.com/labs-dev/labs/content"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Cluster states, as `labs status` names them.
const (
	StateUnknown     = "unknown"     // Docker does not answer
	StateAbsent      = "absent"      // no node containers
	StateRunning     = "running"     // all nodes run and the API server answers
	StateStopped     = "stopped"     // every node container is stopped
	StatePartly      = "degraded"    // some node containers are stopped
	StateBroken      = "broken"      // a node container is missing
	StateUnreachable = "unreachable" // nodes run, the API server does not answer
)

// StatusReport is `labs status --output json`.
type StatusReport struct {
	Cluster string `json:"cluster"`
	// Mode is "class" on a class cluster (`labs join`), else empty.
	Mode       string       `json:"mode,omitempty"`
	Namespace  string       `json:"namespace,omitempty"`
	Expires    *time.Time   `json:"expires,omitempty"`
	State      string       `json:"state"`
	Running    bool         `json:"running"`
	Kubeconfig string       `json:"kubeconfig,omitempty"`
	Nodes      []NodeStatus `json:"nodes,omitempty"`
	Lab        string       `json:"lab,omitempty"`
	Step       int          `json:"step,omitempty"`
	Steps      int          `json:"steps,omitempty"`
	StepTitle  string       `json:"step_title,omitempty"`
	// LabError says why the current lab's progress cannot be read.
	LabError string `json:"lab_error,omitempty"`
	Error    string `json:"error,omitempty"`
	// Fix is what to run about State or Error.
	Fix string `json:"fix,omitempty"`
}

// NodeStatus is one node in `labs status`.
type NodeStatus struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	Container string `json:"container"` // running, exited, paused, ..., missing
	Ready     bool   `json:"ready"`
	Version   string `json:"version,omitempty"`
}

// Status shows the cluster, its nodes, and the current lab and step. It
// says what is wrong when something is: Docker down, nodes stopped or
// missing, an API server that does not answer.
func (r *Runner) Status(ctx context.Context, asJSON bool) error {
	var rep StatusReport
	if t, ok := r.target().(*ClassTarget); ok {
		rep = r.classStatus(ctx, t)
	} else {
		rep = r.clusterStatus(ctx)
	}
	if s, err := r.current(ctx); err == nil {
		rep.Lab, rep.Step, rep.Steps, rep.StepTitle = s.lab.ID, s.prog.Step+1, len(s.lab.Steps), s.lab.Steps[s.prog.Step].Title
	} else if !errors.Is(err, ErrNoSession) {
		rep.LabError = err.Error()
		if id, _, _ := r.store().Current(ctx); id != "" {
			rep.Lab = id
		}
	}
	if asJSON {
		return WriteJSON(r.Out, rep)
	}
	switch {
	case rep.Mode == "class" && rep.State == StateRunning:
		fmt.Fprintf(r.Out, "class %s: reachable; your namespace %s (kubeconfig %s)", rep.Cluster, rep.Namespace, rep.Kubeconfig)
		if rep.Expires != nil {
			fmt.Fprintf(r.Out, ", token valid until %s", rep.Expires.Local().Format(time.DateTime))
		}
		fmt.Fprintln(r.Out)
	case rep.State == StateRunning:
		fmt.Fprintf(r.Out, "cluster %s: running (kubeconfig %s)\n", rep.Cluster, rep.Kubeconfig)
	default:
		fmt.Fprintf(r.Out, "cluster %s: %s", rep.Cluster, rep.State)
		if rep.Error != "" {
			fmt.Fprintf(r.Out, " (%s)", rep.Error)
		}
		if rep.Fix != "" {
			fmt.Fprintf(r.Out, "; %s", rep.Fix)
		}
		fmt.Fprintln(r.Out)
	}
	if len(rep.Nodes) > 0 {
		t := content.NewTable("  NODE", "ROLE", "CONTAINER", "STATUS", "VERSION")
		for _, n := range rep.Nodes {
			st := "NotReady"
			switch {
			case n.Ready:
				st = "Ready"
			case rep.State != StateRunning:
				st = "-"
			}
			t.Row("  "+n.Name, n.Role, n.Container, st, n.Version)
		}
		if err := t.Write(r.Out); err != nil {
			return err
		}
	}
	switch {
	case rep.LabError != "":
		fmt.Fprintf(r.Out, "lab: %s: %s\n", rep.Lab, rep.LabError)
	case rep.Lab == "":
		fmt.Fprintln(r.Out, "lab: none started")
	default:
		fmt.Fprintf(r.Out, "lab: %s, step %d/%d: %s\n", rep.Lab, rep.Step, rep.Steps, rep.StepTitle)
	}
	return nil
}

// classStatus is the class cluster's state: whether it answers, the
// learner's namespace and token.
func (r *Runner) classStatus(ctx context.Context, t *ClassTarget) StatusReport {
	rep := StatusReport{Cluster: t.Joined.Class, Mode: "class", Namespace: t.Joined.Namespace, Kubeconfig: r.Paths.Kubeconfig(), State: StateUnreachable}
	if !t.Joined.Expires.IsZero() {
		rep.Expires = &t.Joined.Expires
	}
	c, err := r.client()
	if err == nil {
		err = t.probe(ctx, c)
	}
	if err != nil {
		rep.Error, rep.Fix = err.Error(), "`labs doctor` says more"
		return rep
	}
	rep.State, rep.Running = StateRunning, true
	return rep
}

// clusterStatus reads the cluster's state from Docker, then from the API
// server when every node runs.
func (r *Runner) clusterStatus(ctx context.Context) StatusReport {
	rep := StatusReport{Cluster: r.Cluster.Name(), State: StateUnknown}
	if err := r.Docker.Preflight(ctx); err != nil {
		rep.Error = err.Error()
		return rep
	}
	containers, err := r.Cluster.Nodes(ctx)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	if len(containers) == 0 {
		rep.State, rep.Fix = StateAbsent, "`labs start LAB` creates it"
		return rep
	}
	byName := map[string]int{}
	stopped := 0
	for _, c := range containers {
		byName[c.Name] = len(rep.Nodes)
		rep.Nodes = append(rep.Nodes, NodeStatus{Name: c.Name, Role: roleOfName(c.Name), Container: c.State})
		if !c.Running() {
			stopped++
		}
	}
	if missing := r.missingNodes(containers); len(missing) > 0 {
		for _, m := range missing {
			rep.Nodes = append(rep.Nodes, NodeStatus{Name: m, Role: roleOfName(m), Container: "missing"})
		}
		rep.State = StateBroken
		rep.Error = fmt.Sprintf("node container %s deleted outside labs", strings.Join(missing, ", "))
		rep.Fix = "`labs down` then `labs start LAB` rebuilds the cluster (your progress is kept)"
		return rep
	}
	switch {
	case stopped == len(containers):
		rep.State, rep.Fix = StateStopped, "`labs start LAB` resumes it where you were"
		return rep
	case stopped > 0:
		rep.State, rep.Error, rep.Fix = StatePartly, fmt.Sprintf("%d of %d node containers are not running", stopped, len(containers)), "`labs start LAB` starts them again"
		return rep
	}
	rep.Kubeconfig = r.Paths.Kubeconfig()
	c, err := r.client()
	if err != nil {
		rep.State, rep.Error, rep.Fix = StateUnreachable, err.Error(), "`labs start LAB` writes it again"
		return rep
	}
	if err := awaitReady(ctx, c, 5*time.Second); err != nil {
		rep.State, rep.Error, rep.Fix = StateUnreachable, err.Error(), "`labs start LAB` waits for it and brings the cluster back; if that fails, `labs down` then `labs start LAB` rebuilds it (your progress is kept)"
		return rep
	}
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		rep.State, rep.Error, rep.Fix = StateUnreachable, fmt.Sprintf("%v: %s", ErrUnreachable, shortError(err)), "`labs start LAB` brings it back"
		return rep
	}
	rep.State, rep.Running = StateRunning, true
	for _, n := range nodes.Items {
		if i, ok := byName[n.Name]; ok {
			rep.Nodes[i].Role, rep.Nodes[i].Ready, rep.Nodes[i].Version = role(&n), nodeReady(&n), n.Status.NodeInfo.KubeletVersion
		}
	}
	return rep
}

// roleOfName is a node's role as kind names its containers.
func roleOfName(name string) string {
	if strings.HasSuffix(name, "-control-plane") {
		return "control-plane"
	}
	return "worker"
}

func role(n *corev1.Node) string {
	if _, ok := n.Labels["node-role.kubernetes.io/control-plane"]; ok {
		return "control-plane"
	}
	return "worker"
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
	// Origin is where the lab comes from: "built-in" or a folder.
	Origin string `json:"origin"`
	// Languages the lab is translated to, beside its original.
	Languages []string `json:"languages,omitempty"`
	// Error says why the lab's progress cannot be read, or, for a lab file
	// that could not be loaded (Broken), why.
	Error  string `json:"error,omitempty"`
	Broken bool   `json:"broken,omitempty"`
}

// List prints the labs with their progress.
func (r *Runner) List(ctx context.Context, asJSON bool) error {
	st := r.store()
	cur, _, _ := st.Current(ctx)
	var rows []LabSummary
	for _, e := range r.Catalog.Entries() {
		l := e.In(r.Catalog.Lang)
		row := LabSummary{ID: l.ID, Title: l.Title, Summary: l.Summary, Steps: len(l.Steps), Current: l.ID == cur, Duration: l.Duration, Level: l.Level, Origin: e.Origin}
		for lang := range e.Translations {
			row.Languages = append(row.Languages, lang)
		}
		sort.Strings(row.Languages)
		p, err := st.Load(ctx, l.ID)
		switch {
		case err != nil:
			row.Error = err.Error()
		case p != nil:
			p.fit(l)
			row.Done = p.DoneCount()
		}
		rows = append(rows, row)
	}
	var broken []LabSummary
	for _, b := range r.Catalog.Broken() {
		id, _ := LabFileLang(b.File)
		broken = append(broken, LabSummary{ID: id, Origin: b.Origin, Broken: true, Error: fmt.Sprintf("%s: %v", originPath(b.Origin, b.File), b.Err)})
	}
	if asJSON {
		return WriteJSON(r.Out, append(rows, broken...))
	}
	t := content.NewTable("LAB", "TITLE", "STEPS", "DONE", "LEVEL", "DURATION", "FROM")
	var damaged []string
	for _, row := range rows {
		mark := ""
		if row.Current {
			mark = " *"
		}
		done := fmt.Sprintf("%d/%d", row.Done, row.Steps)
		if row.Error != "" {
			done = "damaged"
			damaged = append(damaged, row.Error)
		}
		from := row.Origin
		if len(row.Languages) > 0 {
			from += " (+" + strings.Join(row.Languages, ", ") + ")"
		}
		t.Row(row.ID+mark, row.Title, fmt.Sprint(row.Steps), done, row.Level, row.Duration, from)
	}
	if err := t.Write(r.Out); err != nil {
		return err
	}
	for _, d := range damaged {
		fmt.Fprintln(r.Out, d)
	}
	if len(broken) > 0 {
		fmt.Fprintf(r.Out, "\n%d lab file(s) could not be loaded (fix them, then `labs lint FILE`):\n", len(broken))
		for _, b := range broken {
			fmt.Fprintln(r.Out, "  "+b.Error)
		}
	}
	return nil
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
