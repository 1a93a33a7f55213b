package runner

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/runner/buildinfo"
	"github.com/labs-dev/labs/runner/docker"
)

// Diagnosis verdicts.
const (
	DiagOK   = "ok"
	DiagWarn = "warn"
	DiagFail = "fail"
)

// Diagnosis is one line of `labs doctor`.
type Diagnosis struct {
	Name   string `json:"name"`
	Status string `json:"status"` // ok, warn, fail
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// DoctorReport is `labs doctor --output json`.
type DoctorReport struct {
	OK     bool        `json:"ok"` // no check failed
	Checks []Diagnosis `json:"checks"`
	// Labs is which labs ran the checks: a help request names it.
	Labs buildinfo.Info `json:"labs"`
}

// ErrDoctorFailed is returned when a check of `labs doctor` failed; the
// report says which.
var ErrDoctorFailed = errors.New("labs doctor found a problem")

// What three kind nodes and a lab's pods need, as measured here: the idle
// cluster takes ~1.6 GiB, a lab's workloads and load pods the rest.
const (
	needCPUs      = 2
	needMemory    = 4 << 30
	minMemory     = 2 << 30
	needDisk      = 10 << 30
	minDisk       = 3 << 30
	needInstances = 512    // fs.inotify.max_user_instances (kind's known issue)
	needWatches   = 524288 // fs.inotify.max_user_watches
	inotifyDir    = "/proc/sys/fs/inotify/"
)

// Doctor checks what a lab needs of this machine, each with its fix: what a
// learner runs before class and pastes into a help request.
func (r *Runner) Doctor(ctx context.Context, asJSON bool) error {
	rep := r.diagnose(ctx)
	rep.Labs = buildinfo.Get(r.Version)
	if asJSON {
		if err := WriteJSON(r.Out, rep); err != nil {
			return err
		}
	} else {
		r.printDoctor(rep)
	}
	if !rep.OK {
		return ErrDoctorFailed
	}
	return nil
}

func (r *Runner) diagnose(ctx context.Context) DoctorReport {
	if t, ok := r.target().(*ClassTarget); ok {
		return r.diagnoseClass(ctx, t)
	}
	var rep DoctorReport
	add := func(d Diagnosis) { rep.Checks = append(rep.Checks, d) }
	if err := r.Docker.Preflight(ctx); err != nil {
		add(Diagnosis{Name: "docker", Status: DiagFail, Detail: err.Error(), Fix: "start Docker (Docker Desktop, or `sudo systemctl start docker`) and run `labs doctor` again"})
		return rep
	}
	// Each probe gets its own deadline: a wedged engine, the moment a
	// learner runs doctor, must not hang it.
	within := func(f func(context.Context) Diagnosis) Diagnosis {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		return f(pctx)
	}
	var facts docker.Facts
	add(within(func(ctx context.Context) Diagnosis {
		var err error
		if facts, err = r.Docker.Facts(ctx); err != nil {
			return Diagnosis{Name: "docker", Status: DiagFail, Detail: err.Error(), Fix: "restart Docker and run `labs doctor` again"}
		}
		return Diagnosis{Name: "docker", Status: DiagOK, Detail: fmt.Sprintf("Docker %s (API %s) on %s, %s, at %s", facts.ServerVersion, facts.APIVersion, facts.OS, facts.Arch, facts.Host)}
	}))
	if rep.Checks[0].Status == DiagFail {
		return rep
	}
	add(diagnoseResources(facts))

	// A running node sees the kernel and disk the cluster really uses (on
	// Docker Desktop, the VM's); without one, this machine's.
	node := r.runningNode(ctx)
	for _, probe := range []func(context.Context) Diagnosis{
		func(ctx context.Context) Diagnosis { return r.diagnoseDisk(ctx, facts, node) },
		func(context.Context) Diagnosis { return diagnoseCgroups(facts) },
		func(ctx context.Context) Diagnosis { return r.diagnoseInotify(ctx, node) },
		func(ctx context.Context) Diagnosis { return r.diagnoseOOM(ctx, node) },
		r.diagnoseNodeImage,
		r.diagnoseCluster,
	} {
		if ctx.Err() != nil {
			break
		}
		add(within(probe))
	}

	rep.OK = ctx.Err() == nil
	for _, d := range rep.Checks {
		if d.Status == DiagFail {
			rep.OK = false
		}
	}
	return rep
}

// probeTimeout bounds each of doctor's probes.
const probeTimeout = 20 * time.Second

func diagnoseResources(f docker.Facts) Diagnosis {
	d := Diagnosis{Name: "resources", Status: DiagOK, Detail: fmt.Sprintf("Docker may use %d CPUs and %s of memory (3 nodes and a lab need %d CPUs and %s)", f.CPUs, gib(uint64(f.MemoryBytes)), needCPUs, gib(needMemory))}
	fix := "give Docker more CPUs and memory (Docker Desktop: Settings > Resources), or close other programs"
	switch {
	case f.MemoryBytes < minMemory:
		d.Status, d.Fix = DiagFail, fix
	case f.MemoryBytes < needMemory || f.CPUs < needCPUs:
		d.Status, d.Fix = DiagWarn, fix
	}
	return d
}

func (r *Runner) diagnoseDisk(ctx context.Context, f docker.Facts, node string) Diagnosis {
	d := Diagnosis{Name: "disk"}
	var free uint64
	var where string
	if node != "" {
		if res, err := r.Docker.Exec(ctx, node, []string{"df", "-Pk", "/"}); err == nil && res.ExitCode == 0 {
			if kib, ok := dfAvailable(res.Stdout); ok {
				free, where = kib<<10, "where Docker keeps containers (read in node "+node+")"
			}
		}
	}
	if where == "" {
		if b, err := r.host().FreeBytes(f.RootDir); err == nil {
			free, where = b, "under "+f.RootDir
		} else if b, err := r.host().FreeBytes(r.Paths.StateDir); err == nil {
			free, where = b, "on this machine (Docker's own disk could not be read)"
		} else {
			return Diagnosis{Name: "disk", Status: DiagWarn, Detail: "free disk space could not be read", Fix: "make sure Docker has 10 GiB free"}
		}
	}
	d.Detail = fmt.Sprintf("%s free %s (a cluster needs about %s)", gib(free), where, gib(needDisk))
	switch {
	case free < minDisk:
		d.Status, d.Fix = DiagFail, "free disk space: `docker system prune` removes unused images and containers"
	case free < needDisk:
		d.Status, d.Fix = DiagWarn, "free disk space: `docker system prune` removes unused images and containers"
	default:
		d.Status = DiagOK
	}
	return d
}

// dfAvailable reads the available KiB from `df -Pk` output.
func dfAvailable(out string) (uint64, bool) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		return 0, false
	}
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(f[3], 10, 64)
	return n, err == nil
}

func diagnoseCgroups(f docker.Facts) Diagnosis {
	v := f.CgroupVersion
	if v == "" {
		v = "1" // engines before cgroup v2 support do not say
	}
	detail := fmt.Sprintf("cgroup v%s (%s driver)", v, f.CgroupDriver)
	if v == "1" {
		detail += "; labs reads v1 and v2 alike (laptops with Docker Desktop have v2)"
	}
	return Diagnosis{Name: "cgroups", Status: DiagOK, Detail: detail}
}

func (r *Runner) diagnoseInotify(ctx context.Context, node string) Diagnosis {
	read := func(name string) (int, error) {
		var b []byte
		var err error
		if node != "" {
			var res docker.ExecResult
			res, err = r.Docker.Exec(ctx, node, []string{"cat", inotifyDir + name})
			if err == nil && res.ExitCode != 0 {
				err = errors.New(strings.TrimSpace(res.Stderr))
			}
			b = []byte(res.Stdout)
		} else {
			b, err = r.host().ReadFile(inotifyDir + name)
		}
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if node == "" && r.host().GOOS() != "linux" {
		return Diagnosis{Name: "inotify", Status: DiagOK, Detail: "limits live in Docker's VM; `labs start` a cluster and run `labs doctor` again to read them"}
	}
	inst, err1 := read("max_user_instances")
	watches, err2 := read("max_user_watches")
	if err := errors.Join(err1, err2); err != nil {
		return Diagnosis{Name: "inotify", Status: DiagWarn, Detail: fmt.Sprintf("limits could not be read: %v", err), Fix: "see kind's known issue \"Pod errors due to too many open files\""}
	}
	where := "on this machine"
	if node != "" {
		where = "in node " + node
	}
	d := Diagnosis{Name: "inotify", Status: DiagOK, Detail: fmt.Sprintf("fs.inotify.max_user_instances %d, max_user_watches %d (%s; kind needs %d and %d)", inst, watches, where, needInstances, needWatches)}
	if inst < needInstances || watches < needWatches {
		d.Status = DiagWarn
		d.Fix = fmt.Sprintf("pods may fail with \"too many open files\": `sudo sysctl fs.inotify.max_user_instances=%d fs.inotify.max_user_watches=%d` (on Docker Desktop, inside its VM)", needInstances, needWatches)
	}
	return d
}

// diagnoseOOM asks the container runtime whether a process may lower its
// oom_score_adj below 0, as the kubelet does for Guaranteed pods (-997).
// Without CAP_SYS_RESOURCE (this project's CI machine) it may not, and
// containerd clamps the value to 0.
func (r *Runner) diagnoseOOM(ctx context.Context, node string) Diagnosis {
	d := Diagnosis{Name: "oom_score_adj"}
	var res docker.ExecResult
	var err error
	where := ""
	switch {
	case node != "":
		res, err = r.Docker.Exec(ctx, node, []string{"sh", "-c", checks.OOMProbeScript})
		where = "in node " + node
	default:
		present, perr := r.Docker.ImagePresent(ctx, r.NodeImage)
		if perr != nil || !present {
			d.Status, d.Detail = DiagWarn, "unknown: no running node and no node image to try it in"
			d.Fix = "`labs start LAB`, then `labs doctor` again"
			return d
		}
		res, err = r.Docker.RunOnce(ctx, r.NodeImage, []string{"sh", "-c", checks.OOMProbeScript})
		where = "in a container of " + r.NodeImage
	}
	if err != nil {
		d.Status, d.Detail = DiagWarn, fmt.Sprintf("unknown: %v", err)
		return d
	}
	got := strings.TrimSpace(res.Stdout)
	if got == "-998" {
		d.Status, d.Detail = DiagOK, fmt.Sprintf("negative values are allowed (%s): Guaranteed pods get -997", where)
		return d
	}
	d.Status = DiagWarn
	d.Detail = fmt.Sprintf("negative values are not allowed here (%s, no CAP_SYS_RESOURCE; set -998, read back %s): containerd clamps Guaranteed pods' -997 to 0, and labs checks the clamped value", where, orNone(got))
	d.Fix = "nothing to do for most labs; a Docker engine with CAP_SYS_RESOURCE (Docker Desktop, a regular Linux host) shows the real -997"
	return d
}

func orNone(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

func (r *Runner) diagnoseNodeImage(ctx context.Context) Diagnosis {
	d := Diagnosis{Name: "node image"}
	present, err := r.Docker.ImagePresent(ctx, r.NodeImage)
	switch {
	case err != nil:
		d.Status, d.Detail = DiagWarn, err.Error()
	case present:
		d.Status, d.Detail = DiagOK, r.NodeImage+" is present"
	default:
		d.Status, d.Detail = DiagWarn, r.NodeImage+" is not here: the first `labs start` pulls it (needs the network)"
		d.Fix = "before class, run `labs start` once online; offline, pass a local node image with --node-image or LABS_NODE_IMAGE"
	}
	return d
}

func (r *Runner) diagnoseCluster(ctx context.Context) Diagnosis {
	st := r.clusterStatus(ctx)
	d := Diagnosis{Name: "cluster", Detail: fmt.Sprintf("%s: %s", st.Cluster, st.State), Fix: st.Fix}
	if st.Error != "" {
		d.Detail += " (" + st.Error + ")"
	}
	switch st.State {
	case StateRunning:
		ready := 0
		for _, n := range st.Nodes {
			if n.Ready {
				ready++
			}
		}
		d.Detail += fmt.Sprintf(", %d/%d nodes Ready", ready, len(st.Nodes))
		d.Status = DiagOK
		if ready < len(st.Nodes) {
			d.Status = DiagWarn
		}
	case StateAbsent, StateStopped:
		d.Status = DiagOK
	case StatePartly:
		d.Status = DiagWarn
	default:
		d.Status = DiagFail
	}
	return d
}

// runningNode names a running node container of the cluster ("" if none):
// commands run there see the kernel the cluster runs on.
func (r *Runner) runningNode(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	nodes, err := r.Cluster.Nodes(ctx)
	if err != nil {
		return ""
	}
	for _, n := range nodes {
		if n.Running() {
			return n.Name
		}
	}
	return ""
}

func (r *Runner) printDoctor(rep DoctorReport) {
	width := 0
	for _, d := range rep.Checks {
		width = max(width, len(d.Name))
	}
	for _, d := range rep.Checks {
		mark := r.Style.Green("✓")
		switch d.Status {
		case DiagWarn:
			mark = r.Style.Bold("!")
		case DiagFail:
			mark = r.Style.Red("✗")
		}
		fmt.Fprintf(r.Out, "%s %-*s  %s\n", mark, width, d.Name, d.Detail)
		if d.Fix != "" && d.Status != DiagOK {
			fmt.Fprintf(r.Out, "  %-*s  fix: %s\n", width, "", d.Fix)
		}
	}
	fmt.Fprintln(r.Out)
	fmt.Fprintln(r.Out, rep.Labs)
	if rep.OK {
		fmt.Fprintln(r.Out, "Ready for labs. (! marks what may get in the way; ✗ what will.)")
	} else {
		fmt.Fprintln(r.Out, "Not ready: fix what is marked ✗, then run `labs doctor` again.")
	}
}

func gib(b uint64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }
