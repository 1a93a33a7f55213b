package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/labs-dev/labs/labs"
	"github.com/labs-dev/labs/runner"
)

// The GitHub Classroom example grades what its README says, and its
// submission has a solution for every step of the lab (the cluster suite,
// e2e 06-grade, runs it).
func TestGitHubClassroomExample(t *testing.T) {
	const dir = "../../examples/github-classroom"
	b, err := os.ReadFile(filepath.Join(dir, ".github/workflows/grade.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Run string `json:"run"`
			} `json:"steps"`
		} `json:"jobs"`
	}
	// Only jobs.*.steps[].run matters here; other keys are GitHub's.
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	var runs []string
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			runs = append(runs, s.Run)
		}
	}
	all := strings.Join(runs, "\n")
	for _, want := range []string{"go install github.com/labs-dev/labs/cmd/labs@", "labs grade selfhealing --submission submission"} {
		if !strings.Contains(all, want) {
			t.Errorf("the workflow does not run %q; it runs:\n%s", want, all)
		}
	}
	cat, err := runner.LoadCatalog(runner.Source{Origin: runner.BuiltIn, FS: labs.FS})
	if err != nil {
		t.Fatal(err)
	}
	lab, err := cat.Find("selfhealing")
	if err != nil {
		t.Fatal(err)
	}
	for i := range lab.Steps {
		n := fmt.Sprintf("step-%02d", i+1)
		_, e1 := os.Stat(filepath.Join(dir, "submission", n+".sh"))
		_, e2 := os.Stat(filepath.Join(dir, "submission", n))
		if e1 != nil && e2 != nil {
			t.Errorf("the example submission has no %s.sh or %s/ for step %d (%s)", n, n, i+1, lab.Steps[i].Title)
		}
	}
}
