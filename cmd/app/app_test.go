package app

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"labs": func() { os.Exit(Main("")) },
		// Lab scripts run `kubectl`, a link to the labs binary (here the
		// test binary), which Main turns into the built-in kubectl.
		"kubectl": func() { os.Exit(Main("")) },
		// signal-probe is labs' signal handling around a slow cleanup: the
		// first signal cancels, then the cleanup takes 30 s unless a second
		// signal quits at once.
		"signal-probe": func() {
			ctx, sig, restore := withSignals(context.Background())
			defer restore()
			fmt.Println("ready")
			<-ctx.Done()
			fmt.Printf("cancelled by %v; cleaning up\n", sig())
			time.Sleep(30 * time.Second)
			os.Exit(0)
		},
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
