package runner

import (
	"fmt"
	"os"
	"path/filepath"
)

// Paths are where labs keeps its files. Nothing is written elsewhere: the
// user's ~/.kube/config is never touched.
type Paths struct {
	ConfigDir string // kubeconfig
	StateDir  string // progress, lock
}

// DefaultPaths follows XDG: $XDG_CONFIG_HOME/labs (or the OS config dir) and
// $XDG_STATE_HOME/labs (or ~/.local/state/labs).
func DefaultPaths() (Paths, error) {
	cfg, err := os.UserConfigDir()
	if err != nil {
		return Paths{}, fmt.Errorf("finding the config dir: %w", err)
	}
	state := os.Getenv("XDG_STATE_HOME")
	if state == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return Paths{}, fmt.Errorf("finding the home dir: %w", err)
		}
		state = filepath.Join(home, ".local", "state")
	}
	return Paths{ConfigDir: filepath.Join(cfg, "labs"), StateDir: filepath.Join(state, "labs")}, nil
}

// Kubeconfig is the lab cluster's own kubeconfig (mode 0600).
func (p Paths) Kubeconfig() string { return filepath.Join(p.ConfigDir, "kubeconfig") }
