package app

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"labs": func() { os.Exit(Main()) },
		// Lab scripts run `kubectl`, a link to the labs binary (here the
		// test binary), which Main turns into the built-in kubectl.
		"kubectl": func() { os.Exit(Main()) },
	})
}

// TestScripts runs the CLI acceptance scripts that need no cluster: bad
// input, listings, and Docker being absent.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/config")
			env.Setenv("XDG_STATE_HOME", env.WorkDir+"/state")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}
