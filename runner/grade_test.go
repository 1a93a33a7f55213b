package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSubmissionFor(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "step-01.sh"), []byte("true\n"), 0o644)
	os.Mkdir(filepath.Join(dir, "step-02"), 0o755)
	os.Mkdir(filepath.Join(dir, "step-03.sh"), 0o755) // a folder named like a script is not one
	for i, want := range []struct {
		script bool
		what   string
	}{{true, "step-01.sh"}, {false, "step-02/"}, {false, ""}, {false, ""}} {
		script, what := submissionFor(dir, i)
		if script != want.script || what != want.what {
			t.Errorf("step %d: submissionFor = %v, %q; want %v, %q", i+1, script, what, want.script, want.what)
		}
	}
}

func TestPassMark(t *testing.T) {
	for _, c := range []struct {
		opts GradeOptions
		want float64
	}{{GradeOptions{}, 7}, {GradeOptions{PassMark: 5, PassMarkSet: true}, 5}, {GradeOptions{PassMark: 0, PassMarkSet: true}, 0}, {GradeOptions{PassMark: 80, PassPercent: true, PassMarkSet: true}, 5.6}} {
		if got := passMark(7, c.opts); got != c.want {
			t.Errorf("passMark(7, %+v) = %v, want %v", c.opts, got, c.want)
		}
	}
}

// JUnit: a wrong result is a failure, a step that could not run an error,
// a step the state cannot judge skipped; grading that broke is one error.
func TestGradeJUnit(t *testing.T) {
	rep := &GradeReport{Lab: "demo", Steps: []GradeStep{
		{Step: 1, Title: "ok", Points: 1, MaxPoints: 1, Passed: true},
		{Step: 2, Title: "wrong", MaxPoints: 1, Expected: []string{"3 pods"}, Found: []string{"✗ 2 pods"}},
		{Step: 3, Title: "hung", MaxPoints: 2, Error: "step-03.sh: script did not finish in time"},
		{Step: 4, Title: "history", MaxPoints: 1, NotGradable: "not gradable from the state alone"},
	}}
	path := filepath.Join(t.TempDir(), "grade.xml")
	if err := writeGradeJUnit(path, rep, errors.New("cluster gone")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{
		`<testsuite name="demo" tests="5" failures="1" errors="2" skipped="1"`,
		`<testcase name="step 02: wrong (0/1)" classname="demo" time="0.000">`,
		`<failure message="expected 3 pods">expected: 3 pods&#xA;found: ✗ 2 pods</failure>`,
		`<error message="step-03.sh: script did not finish in time">`,
		`<skipped message="not gradable from the state alone">`,
		`<error message="cluster gone">`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JUnit lacks %s:\n%s", want, b)
		}
	}
}
