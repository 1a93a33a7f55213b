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

// ciSeconds is about how long a script took in CI (2026-12-07, a clean
// clone, two lanes), to balance the lanes; a new script counts as a minute.
func ciSeconds(f string) int {
	for p, secs := range map[string]int{"01-": 69, "02-": 460, "03-": 48, "04-": 156, "05-": 264, "06-": 221, "07-": 130, "08-": 406, "09-": 97} {
		if strings.HasPrefix(filepath.Base(f), p) {
			return secs
		}
	}
	return 60
}

// plan orders the scripts into n lanes that run at once, each on a
// cluster of its own: every script but the alone ones, the longest first,
// goes to the lane with the least to do so far; in a lane the shared
// scripts come first, one after another on one cluster (reset between
// them), then the others, each on a fresh one. Then each alone script runs
// by itself.
func plan(files []string, use func(string) int, n int) (lanes [][]string, last []string) {
	sort.Strings(files)
	sort.SliceStable(files, func(i, j int) bool { return ciSeconds(files[i]) > ciSeconds(files[j]) })
	lanes = make([][]string, max(n, 1))
	queued := make([]int, len(lanes)) // seconds on each lane so far
	for _, f := range files {
		if use(f) == alone {
			last = append(last, f)
			continue
		}
		least := 0
		for i := range queued {
			if queued[i] < queued[least] {
				least = i
			}
		}
		lanes[least] = append(lanes[least], f)
		queued[least] += ciSeconds(f)
	}
	for _, lane := range lanes {
		sort.SliceStable(lane, func(i, j int) bool { return use(lane[i]) == sharedCluster && use(lane[j]) != sharedCluster })
	}
	return lanes, last
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

// Scripts go, the longest first, to the lane with the least to do; in a
// lane the shared ones first; alone ones last; one lane runs everything.
func TestPlanChainsSharedScripts(t *testing.T) {
	files := []string{"d/01-a.txtar", "d/02-b.txtar", "d/03-i.txtar", "d/05-c.txtar", "d/06-d.txtar", "d/09-e.txtar", "d/10-new.txtar", "d/11-z.txtar"}
	use := map[string]int{"d/01-a.txtar": sharedCluster, "d/06-d.txtar": sharedCluster, "d/11-z.txtar": alone}
	// 02 460 to lane 1; 05 264, 06 221 (485) to lane 2; 09 97 (557) to
	// lane 1; 01 69 (554), 10 60 (614) to lane 2; 03 48 (605) to lane 1;
	// lane 2's shared ones, 06 and 01, first.
	lanes, last := plan(append([]string{}, files...), func(f string) int { return use[f] }, 2)
	if got := fmt.Sprint(lanes, last); got != "[[d/02-b.txtar d/09-e.txtar d/03-i.txtar] [d/06-d.txtar d/01-a.txtar d/05-c.txtar d/10-new.txtar]] [d/11-z.txtar]" {
		t.Errorf("two lanes: %s", got)
	}
	// Three: 02, 05, 06 one each; 09 (318 to lane 3), 01 (333 to lane
	// 2), 10 (378 to lane 3), 03 (381 to lane 2).
	lanes, last = plan(append([]string{}, files...), func(f string) int { return use[f] }, 3)
	if got := fmt.Sprint(lanes, last); got != "[[d/02-b.txtar] [d/01-a.txtar d/05-c.txtar d/03-i.txtar] [d/06-d.txtar d/09-e.txtar d/10-new.txtar]] [d/11-z.txtar]" {
		t.Errorf("three lanes: %s", got)
	}
	lanes, last = plan(append([]string{}, files...), func(f string) int { return use[f] }, 1)
	if got := fmt.Sprint(lanes, last); got != "[[d/06-d.txtar d/01-a.txtar d/02-b.txtar d/05-c.txtar d/09-e.txtar d/10-new.txtar d/03-i.txtar]] [d/11-z.txtar]" {
		t.Errorf("one lane: %s", got)
	}
	if clusterUse("# x\n# e2e: shared cluster\nexec labs\n") != sharedCluster || clusterUse("# e2e: alone\n") != alone || clusterUse("exec labs\n") != ownCluster {
		t.Error("clusterUse misread a script's # e2e: line")
	}
}
