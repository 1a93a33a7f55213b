package checks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

type answerParams struct {
	Question  string `json:"question"`
	Truth     string `json:"truth"`
	Pod       string `json:"pod,omitempty"`
	Selector  string `json:"selector,omitempty"`
	Container string `json:"container,omitempty"`
}

// answerTruths are what an answer is checked against, read from the
// cluster or a node when the learner answers, never from the lab file.
var answerTruths = map[string]string{
	"pid-on-node":      "the PID of the container's main process on its node",
	"pid-in-container": "the PID the container's main process has inside the container (its own PID namespace)",
	"rootfs-type":      "the file system type of the container's root (/), as its mounts on the node say",
	"memory-limit":     "the container's memory limit in bytes, as its cgroup on the node holds it (512Mi is accepted for 536870912)",
	"pod-ip":           "the pod's IP address",
	"node":             "the node the pod runs on",
	"oom-first":        "the selected pod whose main process the kernel kills first under memory pressure (the highest oom_score_adj on its node)",
}

func answerType() Type {
	return Type{
		Name:   "answer",
		Fields: "`question` (what the learner must find, shown by the check), `truth`: " + strings.Join(sortedKeys(answerTruths), ", ") + "; `pod` or `selector` (for `oom-first`: the candidates), `container` (optional)",
		Passes: "the learner's `labs answer VALUE` equals the truth, read from the cluster or the node when the check runs (a lab file holds no answer). A wrong answer is said to be wrong, without the right one. A reference solution gives its answer by writing it to `$LAB_ANSWER_FILE`",
		Example: `- type: answer
  question: the PID of the guaranteed pod's container, as its node sees it
  truth: pid-on-node
  pod: guaranteed`,
		compile: typed(func(p answerParams, _ time.Duration) (Check, error) {
			return newAnswer(p)
		}),
	}
}

type answerCheck struct {
	p answerParams
	podTarget
}

func newAnswer(p answerParams) (Check, error) {
	if err := require("question", p.Question); err != nil {
		return nil, err
	}
	if _, ok := answerTruths[p.Truth]; !ok {
		return nil, fmt.Errorf("truth %q is not one labs can read (%s)", p.Truth, strings.Join(sortedKeys(answerTruths), ", "))
	}
	target, err := newPodTarget(p.Pod, p.Selector, p.Container)
	if err != nil {
		return nil, err
	}
	return &answerCheck{p: p, podTarget: target}, nil
}

func (c *answerCheck) Needs() []Resource { return []Resource{podResource()} }

func (c *answerCheck) Concern() Concern { return Concern{Selector: c.p.Selector} }

func (c *answerCheck) Expected() string { return "your answer: " + c.p.Question }

func (c *answerCheck) Probe(ctx context.Context, s *State, pr Prober, _ string) (bool, string, error) {
	answer := strings.TrimSpace(s.Answer)
	if answer == "" {
		// Waiting would not bring an answer: say so at once.
		return false, "", settled{"no answer yet: find it, then `labs answer VALUE`"}
	}
	truth, err := c.truth(ctx, s, pr)
	if err != nil {
		// The truth cannot be read now (the pod is restarting): say so,
		// without judging the answer.
		return false, fmt.Sprintf("your answer %s cannot be judged yet: %v", answer, err), nil
	}
	if !sameAnswer(c.p.Truth, answer, truth) {
		return false, "", settled{fmt.Sprintf("your answer %s is not it; look again (`labs hint`), then `labs answer VALUE`", answer)}
	}
	return true, fmt.Sprintf("%s is right", answer), nil
}

// sameAnswer compares an answer with the truth: a memory limit may be
// given as a quantity (512Mi), anything else must be equal.
func sameAnswer(truth, answer, want string) bool {
	if answer == want {
		return true
	}
	if truth == "memory-limit" {
		a, err1 := resource.ParseQuantity(answer)
		w, err2 := strconv.ParseInt(want, 10, 64)
		return err1 == nil && err2 == nil && a.Value() == w
	}
	return false
}

func (c *answerCheck) truth(ctx context.Context, s *State, pr Prober) (string, error) {
	pods, statuses := c.targets(s)
	if len(pods) == 0 {
		return "", fmt.Errorf("no running container in %s", c.where())
	}
	switch c.p.Truth {
	case "pod-ip":
		return pods[0].Status.PodIP, nil
	case "node":
		return pods[0].Spec.NodeName, nil
	}
	np, ok := pr.(NodeProber)
	if !ok {
		return "", fmt.Errorf("this check reads the nodes, which needs labs' own cluster")
	}
	node := pods[0].Spec.NodeName
	switch c.p.Truth {
	case "pid-on-node", "pid-in-container", "rootfs-type":
		proc, err := np.NodeProcess(ctx, node, statuses[0].ContainerID)
		if err != nil {
			return "", err
		}
		switch c.p.Truth {
		case "pid-in-container":
			// The last NSpid entry is the PID in the innermost namespace.
			status, err := readNodeFile(ctx, np, node, fmt.Sprintf("/proc/%d/status", proc.PID))
			if err != nil {
				return "", err
			}
			for _, line := range strings.Split(status, "\n") {
				if f := strings.Fields(line); len(f) > 1 && f[0] == "NSpid:" {
					return f[len(f)-1], nil
				}
			}
			return "", fmt.Errorf("no NSpid in /proc/%d/status on %s", proc.PID, node)
		case "rootfs-type":
			mounts, err := readNodeFile(ctx, np, node, fmt.Sprintf("/proc/%d/mounts", proc.PID))
			if err != nil {
				return "", err
			}
			for _, line := range strings.Split(mounts, "\n") {
				if f := strings.Fields(line); len(f) > 2 && f[1] == "/" {
					return f[2], nil
				}
			}
			return "", fmt.Errorf("no root mount in /proc/%d/mounts on %s", proc.PID, node)
		}
		return strconv.Itoa(proc.PID), nil
	case "memory-limit":
		proc, err := np.NodeProcess(ctx, pods[0].Spec.NodeName, statuses[0].ContainerID)
		if err != nil {
			return "", err
		}
		_, full := cgroupFile("memory-limit", proc)
		return readNodeFile(ctx, np, pods[0].Spec.NodeName, full)
	}
	// oom-first: the highest oom_score_adj among the candidates, read on
	// their nodes; a tie has no single answer.
	best, bestAdj, tie := "", -1001, false
	for i, p := range pods {
		proc, err := np.NodeProcess(ctx, p.Spec.NodeName, statuses[i].ContainerID)
		if err != nil {
			return "", err
		}
		v, err := readNodeFile(ctx, np, p.Spec.NodeName, fmt.Sprintf("/proc/%d/oom_score_adj", proc.PID))
		if err != nil {
			return "", err
		}
		adj, err := strconv.Atoi(v)
		if err != nil {
			return "", fmt.Errorf("oom_score_adj of pod %s reads %q", p.Name, v)
		}
		switch {
		case adj > bestAdj:
			best, bestAdj, tie = p.Name, adj, false
		case adj == bestAdj:
			tie = true
		}
	}
	if tie {
		return "", fmt.Errorf("two pods share the highest oom_score_adj %d: no single pod dies first", bestAdj)
	}
	return best, nil
}
