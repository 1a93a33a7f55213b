package app

import (
	"strings"
	"testing"

	"github.com/labs-dev/labs/cmd/cmdutil"
)

// On Windows only what reads the built-in labs runs; everything else says
// to use WSL 2. Elsewhere nothing is refused. (help and completion exist
// only once cobra executes: Run cannot find them first, so never refuses
// them.)
func TestPlatformMay(t *testing.T) {
	root := NewRootCommand(&cmdutil.Factory{Getenv: func(string) string { return "" }})
	for _, tc := range []struct {
		args    []string
		refused bool
	}{
		{[]string{"version"}, false},
		{[]string{"list"}, false},
		{[]string{"show"}, false},
		{[]string{"lint"}, false},
		{[]string{"start"}, true},
		{[]string{"check"}, true},
		{[]string{"join"}, true},
		{[]string{"class", "serve"}, true},
		{[]string{"kubectl", "get", "pods"}, true},
		{[]string{"bundle", "import", "x"}, true},
	} {
		cmd, _, err := root.Find(tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		err = platformMay("windows", cmd)
		if (err != nil) != tc.refused {
			t.Errorf("windows %v: err = %v, want refused %v", tc.args, err, tc.refused)
		}
		if err != nil && !strings.Contains(err.Error(), "WSL 2") {
			t.Errorf("windows %v: %q does not say what to do", tc.args, err)
		}
		if err := platformMay("linux", cmd); err != nil {
			t.Errorf("linux %v refused: %v", tc.args, err)
		}
	}
}
