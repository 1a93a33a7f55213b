package app

// The cluster suite's lanes (e2e_test.go): which script starts when, on
// which cluster. No build tag: the unit suite tests them.

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// How a script uses its cluster, from a line of its own ("# e2e: ..."):
const (
	// ownCluster (no such line): a fresh cluster, deleted after.
	ownCluster = iota
	// sharedCluster ("# e2e: shared cluster"): the cluster the shared
	// script before it left, with every namespace but the system ones
	// deleted and the nodes schedulable (resetCluster); for scripts that
	// neither stop, break nor limit nodes.
	sharedCluster
	// alone ("# e2e: alone"): a fresh cluster, with no other script
	// running (for a script that would disturb any other: none now).
	alone
)

// clusterUse reads a script's "# e2e:" line.
func clusterUse(src string) int {
	for _, line := range strings.Split(src, "\n") {
		switch strings.TrimSpace(line) {
		case "# e2e: shared cluster":
			return sharedCluster
		case "# e2e: alone":
			return alone
		}
	}
	return ownCluster
}

// ciSeconds is about how long a script took in CI (2026-12-07, two
// lanes), to balance the lanes; a new script counts as a minute.
func ciSeconds(f string) int {
	for p, secs := range map[string]int{"01-": 78, "02-": 584, "03-": 46, "04-": 155, "05-": 326, "06-": 345, "07-": 148, "08-": 431, "09-": 98} {
		if strings.HasPrefix(filepath.Base(f), p) {
			return secs
		}
	}
	return 60
}

// plan orders the scripts into what runs when: the shared scripts one
// after another on lane 1; the others, the longest first, each on the lane
// that has the less to do so far (on lane 1 after its chain, once the
// shared cluster is deleted); then each alone script by itself. With one
// lane, all on lane 1: the chain, then the others.
func plan(files []string, use func(string) int, lanes int) (lane1, lane2, last []string) {
	sort.Strings(files)
	sort.SliceStable(files, func(i, j int) bool { return ciSeconds(files[i]) > ciSeconds(files[j]) })
	var own []string
	t1, t2 := 0, 0
	for _, f := range files {
		switch use(f) {
		case sharedCluster:
			lane1 = append(lane1, f)
			t1 += ciSeconds(f)
		case alone:
			last = append(last, f)
		default:
			own = append(own, f)
		}
	}
	var after []string // own-cluster scripts of lane 1, after its chain
	for _, f := range own {
		if lanes < 2 || t1 < t2 {
			after = append(after, f)
			t1 += ciSeconds(f)
		} else {
			lane2 = append(lane2, f)
			t2 += ciSeconds(f)
		}
	}
	return append(lane1, after...), lane2, last
}

// laneCluster is lane n's cluster name (1-based): labs-e2e, labs-e2e2, ...
func laneCluster(n int) string {
	if n == 1 {
		return "labs-e2e"
	}
	return fmt.Sprintf("labs-e2e%d", n)
}

// laneScript is a script with its cluster's name, and so its nodes' names
// (labs-e2e-worker2), set to name. The other names that start alike are
// kept: 09's image copy (labs-e2e/node:bundle) and 07's tmux servers.
func laneScript(src, name string) string {
	keep := strings.NewReplacer("labs-e2e/node:", "\x00image:", "labs-e2e-watch", "\x00watch")
	back := strings.NewReplacer("\x00image:", "labs-e2e/node:", "\x00watch", "labs-e2e-watch")
	return back.Replace(strings.ReplaceAll(keep.Replace(src), "labs-e2e", name))
}

func TestLaneScriptNamesTheLanesCluster(t *testing.T) {
	src := "exec labs status\nstdout 'labs-e2e-worker2 +worker'\nexists $XDG_CONFIG_HOME/labs/clusters/labs-e2e/kubeconfig\nexec docker tag $KIND_NODE_IMAGE labs-e2e/node:bundle\nenv SOCK=labs-e2e-watch1\nstderr 'cluster labs-e2e is ready'\n"
	if got := laneScript(src, "labs-e2e"); got != src {
		t.Errorf("lane 1 changed the script:\n%s", got)
	}
	want := "exec labs status\nstdout 'labs-e2e2-worker2 +worker'\nexists $XDG_CONFIG_HOME/labs/clusters/labs-e2e2/kubeconfig\nexec docker tag $KIND_NODE_IMAGE labs-e2e/node:bundle\nenv SOCK=labs-e2e-watch1\nstderr 'cluster labs-e2e2 is ready'\n"
	if got := laneScript(src, laneCluster(2)); got != want {
		t.Errorf("lane 2:\n%s\nwant:\n%s", got, want)
	}
}

// Shared scripts run in a chain on lane 1, the others, the longest first,
// on the lane with the less to do (lane 1 after its chain); alone ones
// last; one lane runs everything in turn.
func TestPlanChainsSharedScripts(t *testing.T) {
	files := []string{"d/01-a.txtar", "d/02-b.txtar", "d/03-i.txtar", "d/05-c.txtar", "d/06-d.txtar", "d/09-e.txtar", "d/10-new.txtar", "d/11-z.txtar"}
	use := map[string]int{"d/01-a.txtar": sharedCluster, "d/06-d.txtar": sharedCluster, "d/11-z.txtar": alone}
	// 06+01 = 423 s on lane 1; 02 (584) to lane 2, 05 (326) after the
	// chain (423 < 584), then 09 (98), 10 (60) and 03 (46) to lane 2
	// (584, 682, 742 < 749).
	l1, l2, last := plan(append([]string{}, files...), func(f string) int { return use[f] }, 2)
	if got := fmt.Sprint(l1, l2, last); got != "[d/06-d.txtar d/01-a.txtar d/05-c.txtar] [d/02-b.txtar d/09-e.txtar d/10-new.txtar d/03-i.txtar] [d/11-z.txtar]" {
		t.Errorf("two lanes: %s", got)
	}
	l1, l2, last = plan(append([]string{}, files...), func(f string) int { return use[f] }, 1)
	if got := fmt.Sprint(l1, l2, last); got != "[d/06-d.txtar d/01-a.txtar d/02-b.txtar d/05-c.txtar d/09-e.txtar d/10-new.txtar d/03-i.txtar] [] [d/11-z.txtar]" {
		t.Errorf("one lane: %s", got)
	}
	if clusterUse("# x\n# e2e: shared cluster\nexec labs\n") != sharedCluster || clusterUse("# e2e: alone\n") != alone || clusterUse("exec labs\n") != ownCluster {
		t.Error("clusterUse misread a script's # e2e: line")
	}
}
