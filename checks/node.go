package checks

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// NodeProcess is a container's main process as its node sees it.
type NodeProcess struct {
	PID           int
	CgroupVersion int // 1 or 2
	// Cgroups maps a v1 controller (cpu, memory) to the process's cgroup
	// directory on the node; on v2 the one directory is under "".
	Cgroups map[string]string
}

// Dir is where controller's files are (v2: the one directory).
func (p NodeProcess) Dir(controller string) string {
	if p.CgroupVersion == 2 {
		return p.Cgroups[""]
	}
	return p.Cgroups[controller]
}

// NodeProber reaches the nodes themselves (kind nodes are containers on
// the learner's machine): part of Prober.
type NodeProber interface {
	// NodeProcess finds a container's main process on its node.
	NodeProcess(ctx context.Context, node, containerID string) (NodeProcess, error)
	// NodeExec runs a command on a node, as root.
	NodeExec(ctx context.Context, node string, cmd []string) (ExecResult, error)
}

type nodeParams struct {
	Pod       string `json:"pod,omitempty"`
	Selector  string `json:"selector,omitempty"`
	Container string `json:"container,omitempty"`
	Value     string `json:"value"`
	// Shared lists, for value namespaces, the namespaces the container
	// shares with its node (net for hostNetwork); all others must differ.
	Shared []string `json:"shared,omitempty"`
}

// nodeValues are what a node check can read, for the reference.
var nodeValues = []string{"cpu-shares", "cpu-limit", "memory-limit", "oom-score-adj", "qos-cgroup", "namespaces"}

// namespaceKinds are the namespaces a namespaces check compares.
var namespaceKinds = []string{"net", "pid", "mnt", "uts", "ipc"}

func nodeType() Type {
	return Type{
		Name:   "node",
		Fields: "`pod` or `selector` (every running pod it selects), `container` (optional: the first), `value`: `cpu-shares` (v1 cpu.shares, v2 cpu.weight), `cpu-limit` (cpu.cfs_quota_us, cpu.max), `memory-limit` (memory.limit_in_bytes, memory.max), `oom-score-adj` (/proc/PID/oom_score_adj), `qos-cgroup` (where the pod's cgroup is), `namespaces` (its net, pid, mnt, uts and ipc namespaces against the node's own; `shared: [net]` names those it must share, as hostNetwork does)",
		Passes: "what the node holds for the container's main process (found on its node through Docker, cgroup v1 or v2) equals what Kubernetes computes from the pod's spec and the node's memory; a failure says the computed value and its formula. Where the machine forbids negative oom_score_adj (no CAP_SYS_RESOURCE), a Guaranteed pod's clamped 0 passes and the check says so",
		Example: `- type: node
  pod: burstable
  value: cpu-shares
- type: node
  selector: qos=guaranteed
  value: oom-score-adj`,
		compile: typed(func(p nodeParams, _ time.Duration) (Check, error) {
			return newNodeCheck(p)
		}),
	}
}

type nodeCheck struct {
	p nodeParams
	podTarget
}

// podTarget is the pods (and their container) a check reads on their
// nodes: by name or selector.
type podTarget struct {
	pod, selText, container string
	selector                labels.Selector
}

func newPodTarget(pod, selector, container string) (podTarget, error) {
	if (pod == "") == (selector == "") {
		return podTarget{}, fmt.Errorf("set exactly one of %q or %q", "pod", "selector")
	}
	t := podTarget{pod: pod, selText: selector, container: container, selector: labels.Everything()}
	if selector != "" {
		var err error
		if t.selector, err = labels.Parse(selector); err != nil {
			return podTarget{}, fmt.Errorf("selector %q: %w", selector, err)
		}
	}
	return t, nil
}

func newNodeCheck(p nodeParams) (Check, error) {
	target, err := newPodTarget(p.Pod, p.Selector, p.Container)
	if err != nil {
		return nil, err
	}
	known := false
	for _, v := range nodeValues {
		known = known || v == p.Value
	}
	if !known {
		return nil, fmt.Errorf("value %q is not one labs reads (%s)", p.Value, strings.Join(nodeValues, ", "))
	}
	for _, s := range p.Shared {
		if !slices.Contains(namespaceKinds, s) {
			return nil, fmt.Errorf("shared namespace %q is not one of %s", s, strings.Join(namespaceKinds, ", "))
		}
	}
	if len(p.Shared) > 0 && p.Value != "namespaces" {
		return nil, fmt.Errorf("field %q goes with value namespaces", "shared")
	}
	return &nodeCheck{p: p, podTarget: target}, nil
}

func nodeResource() Resource { return Resource{APIVersion: "v1", Kind: "Node"} }

func (c *nodeCheck) Needs() []Resource { return []Resource{podResource(), nodeResource()} }

func (c *nodeCheck) Concern() Concern { return Concern{Selector: c.p.Selector} }

func (t podTarget) where() string {
	if t.pod != "" {
		return "pod " + t.pod
	}
	return "pods matching " + t.selText
}

func (c *nodeCheck) Expected() string {
	what := map[string]string{
		"cpu-shares":    "its CPU weight (cpu.shares, cpu.weight on cgroup v2) is what its requests.cpu gives",
		"cpu-limit":     "its CPU quota (cpu.cfs_quota_us, cpu.max on cgroup v2) is what its limits.cpu gives",
		"memory-limit":  "its memory limit (memory.limit_in_bytes, memory.max on cgroup v2) is its limits.memory",
		"oom-score-adj": "its main process's oom_score_adj is what the kubelet computes for its QoS class",
		"qos-cgroup":    "its cgroup sits where its QoS class puts it under kubepods",
		"namespaces":    c.namespacesExpected(),
	}[c.p.Value]
	return fmt.Sprintf("on the node of %s: %s", c.where(), what)
}

// targets are the selected pods whose container runs, with that container.
func (t podTarget) targets(s *State) ([]*corev1.Pod, []corev1.ContainerStatus) {
	var pods []*corev1.Pod
	var statuses []corev1.ContainerStatus
	for _, p := range s.Pods() {
		if (t.pod != "" && p.Name != t.pod) || !t.selector.Matches(labels.Set(p.Labels)) || p.DeletionTimestamp != nil || p.Spec.NodeName == "" {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			if (t.container == "" || cs.Name == t.container) && cs.State.Running != nil && cs.ContainerID != "" {
				pods, statuses = append(pods, p), append(statuses, cs)
				break
			}
		}
	}
	return pods, statuses
}

func (c *nodeCheck) Probe(ctx context.Context, s *State, pr Prober, _ string) (bool, string, error) {
	np, ok := pr.(NodeProber)
	if !ok || pr == nil {
		return false, "", fmt.Errorf("this check reads the nodes, which needs labs' own cluster")
	}
	pods, statuses := c.targets(s)
	if len(pods) == 0 {
		return false, fmt.Sprintf("no running container in %s", c.where()), nil
	}
	var found []string
	for i, pod := range pods {
		ok, f := c.probeOne(ctx, s, np, pod, statuses[i])
		if !ok {
			return false, f, nil
		}
		found = append(found, f)
	}
	sort.Strings(found)
	return true, strings.Join(found, "; "), nil
}

func (c *nodeCheck) probeOne(ctx context.Context, s *State, np NodeProber, pod *corev1.Pod, cs corev1.ContainerStatus) (bool, string) {
	node := pod.Spec.NodeName
	proc, err := np.NodeProcess(ctx, node, cs.ContainerID)
	if err != nil {
		return false, err.Error()
	}
	var spec *corev1.Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == cs.Name {
			spec = &pod.Spec.Containers[i]
		}
	}
	if spec == nil {
		return false, fmt.Sprintf("container %s is not in pod %s's spec", cs.Name, pod.Name)
	}
	at := fmt.Sprintf("pod %s on %s, PID %d", pod.Name, node, proc.PID)
	read := func(file string) (string, error) { return readNodeFile(ctx, np, node, file) }
	switch c.p.Value {
	case "oom-score-adj":
		return c.judgeOOM(ctx, s, np, pod, spec, proc, read, at)
	case "namespaces":
		return c.judgeNamespaces(ctx, np, node, proc, at)
	case "qos-cgroup":
		dir := proc.Dir("memory")
		got, known := qosOfCgroupPath(dir)
		switch {
		case !known:
			return false, fmt.Sprintf("cgroup %s is not under kubepods: a layout labs does not know (%s)", dir, at)
		case got != pod.Status.QOSClass:
			return false, fmt.Sprintf("cgroup %s is where %s pods go, but the pod is %s (%s)", dir, got, pod.Status.QOSClass, at)
		}
		return true, fmt.Sprintf("%s pod in %s (%s)", got, dir, at)
	}
	file, full := cgroupFile(c.p.Value, proc)
	got, err := read(full)
	if err != nil {
		return false, err.Error()
	}
	ok, want := judgeCgroup(c.p.Value, proc.CgroupVersion, spec, got)
	if !ok {
		return false, fmt.Sprintf("%s %s in %s; Kubernetes' value is %s (%s)", file, got, full, want, at)
	}
	return true, fmt.Sprintf("%s %s, as %s (%s)", file, got, want, at)
}

func (c *nodeCheck) namespacesExpected() string {
	if len(c.p.Shared) == 0 {
		return "its main process has its own " + strings.Join(namespaceKinds, ", ") + " namespaces, none the node's"
	}
	return fmt.Sprintf("its main process shares the node's %s namespace and has its own others", strings.Join(c.p.Shared, ", "))
}

// nsScript prints, for each namespace kind, the process's namespace and
// the node's own (its PID 1).
const nsScript = `for n in net pid mnt uts ipc; do echo "$n $(readlink /proc/$1/ns/$n) $(readlink /proc/1/ns/$n)"; done`

func (c *nodeCheck) judgeNamespaces(ctx context.Context, np NodeProber, node string, proc NodeProcess, at string) (bool, string) {
	res, err := np.NodeExec(ctx, node, []string{"sh", "-c", nsScript, "ns", fmt.Sprint(proc.PID)})
	if err != nil {
		return false, err.Error()
	}
	var own, shared []string
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			return false, fmt.Sprintf("could not read the namespaces of PID %d on %s (%q)", proc.PID, node, line)
		}
		wantShared := slices.Contains(c.p.Shared, f[0])
		isShared := f[1] == f[2]
		if wantShared != isShared {
			if isShared {
				return false, fmt.Sprintf("its %s namespace is the node's own (%s) (%s)", f[0], f[1], at)
			}
			return false, fmt.Sprintf("its %s namespace %s is not the node's %s (%s)", f[0], f[1], f[2], at)
		}
		if isShared {
			shared = append(shared, f[0])
		} else {
			own = append(own, f[1])
		}
	}
	found := "own namespaces " + strings.Join(own, " ")
	if len(shared) > 0 {
		found += "; the node's " + strings.Join(shared, ", ")
	}
	return true, fmt.Sprintf("%s (%s)", found, at)
}

// readNodeFile returns a file of node, trimmed.
func readNodeFile(ctx context.Context, np NodeProber, node, file string) (string, error) {
	res, err := np.NodeExec(ctx, node, []string{"cat", file})
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 {
		return "", fmt.Errorf("reading %s on %s: %s", file, node, strings.TrimSpace(res.Stderr))
	}
	return strings.TrimSpace(res.Stdout), nil
}

// cgroupFile is the file holding value (cpu-shares, cpu-limit,
// memory-limit) for proc: its name on this cgroup version, and its path.
func cgroupFile(value string, proc NodeProcess) (file, full string) {
	v := cgroupValues[value]
	file = v.v1
	if proc.CgroupVersion == 2 {
		file = v.v2
	}
	return file, path.Join(proc.Dir(v.controller), file)
}

// OOMProbeScript lowers a shell's own oom_score_adj below 0 and reads it back:
// where that is refused (no CAP_SYS_RESOURCE), containerd clamps the
// kubelet's -997 for Guaranteed pods to 0.
const OOMProbeScript = `echo -998 > /proc/self/oom_score_adj 2>/dev/null; cat /proc/self/oom_score_adj`

func (c *nodeCheck) judgeOOM(ctx context.Context, s *State, np NodeProber, pod *corev1.Pod, spec *corev1.Container, proc NodeProcess, read func(string) (string, error), at string) (bool, string) {
	got, err := read(fmt.Sprintf("/proc/%d/oom_score_adj", proc.PID))
	if err != nil {
		return false, err.Error()
	}
	var capacity int64
	for _, n := range s.Objects(nodeResource()) {
		if n.GetName() == pod.Spec.NodeName {
			if q, ok, _ := nestedQuantity(n.Object, "status", "capacity", "memory"); ok {
				capacity = q
			}
		}
	}
	mem := spec.Resources.Requests[corev1.ResourceMemory]
	if capacity == 0 && pod.Status.QOSClass == corev1.PodQOSBurstable {
		return false, fmt.Sprintf("oom_score_adj %s; node %s's memory capacity is not known yet, so the kubelet's value cannot be computed (%s)", got, pod.Spec.NodeName, at)
	}
	want, why := OOMScoreAdjFor(pod.Status.QOSClass, mem.Value(), capacity)
	if got == fmt.Sprint(want) {
		return true, fmt.Sprintf("oom_score_adj %s (%s; %s)", got, why, at)
	}
	if want < 0 && got == "0" {
		res, err := np.NodeExec(ctx, pod.Spec.NodeName, []string{"sh", "-c", OOMProbeScript})
		readBack, perr := strconv.Atoi(strings.TrimSpace(res.Stdout))
		// Only a probe that ran and read back a value of 0 or more proves
		// the clamp; anything else is not evidence.
		if err == nil && res.ExitCode == 0 && perr == nil && readBack >= 0 {
			return true, fmt.Sprintf("oom_score_adj 0: the kubelet asks %d (%s), but this machine forbids negative values (no CAP_SYS_RESOURCE: set -998, read back %s), so the runtime keeps 0 (%s)", want, why, strings.TrimSpace(res.Stdout), at)
		}
	}
	return false, fmt.Sprintf("oom_score_adj %s; the kubelet's value is %d (%s; %s)", got, want, why, at)
}

// nestedQuantity reads a quantity (status.capacity.memory: "24Gi") from an
// unstructured object, as a plain number.
func nestedQuantity(obj map[string]any, fields ...string) (int64, bool, error) {
	s, ok, err := unstructured.NestedString(obj, fields...)
	if err != nil || !ok {
		return 0, false, err
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, false, err
	}
	return q.Value(), true, nil
}
