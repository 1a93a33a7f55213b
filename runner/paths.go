package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultCluster is the kind cluster labs uses unless LABS_CLUSTER_NAME
// names another.
const DefaultCluster = "labs"

// Paths are where labs keeps its files. Nothing is written elsewhere: the
// user's ~/.kube/config is never touched.
type Paths struct {
	ConfigDir string // kubeconfig
	StateDir  string // progress, locks
}

// DefaultPaths follows XDG: $XDG_CONFIG_HOME/labs (or the OS config dir) and
// $XDG_STATE_HOME/labs (or ~/.local/state/labs). Every cluster but the
// default one keeps its files under clusters/NAME in both, so a test cluster
// beside the learner's never touches the learner's kubeconfig, lock or
// progress.
func DefaultPaths(cluster string) (Paths, error) {
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
	p := Paths{ConfigDir: filepath.Join(cfg, "labs"), StateDir: filepath.Join(state, "labs")}
	return p.ForCluster(cluster), nil
}

// ForCluster returns the paths of cluster, keyed under p.
func (p Paths) ForCluster(cluster string) Paths {
	if cluster == "" || cluster == DefaultCluster {
		return p
	}
	return Paths{ConfigDir: filepath.Join(p.ConfigDir, "clusters", cluster), StateDir: filepath.Join(p.StateDir, "clusters", cluster)}
}

// Kubeconfig is the lab cluster's own kubeconfig (mode 0600).
func (p Paths) Kubeconfig() string { return filepath.Join(p.ConfigDir, "kubeconfig") }

// clusterLock serialises what changes the cluster (start, stop, down, test
// setup): minutes long.
func (p Paths) clusterLock() string { return filepath.Join(p.StateDir, "cluster.lock") }

// advanceLock is held by the one command moving the learner past a step,
// from the next step's setup to the record: seconds long.
func (p Paths) advanceLock() string { return filepath.Join(p.StateDir, "advance.lock") }

// progressLock serialises the short read-modify-write of progress files.
func (p Paths) progressLock() string { return filepath.Join(p.StateDir, "progress.lock") }

// defaultNodeImage holds the node image `labs bundle import` loaded: the
// one to start clusters with when no flag or variable names another.
func (p Paths) defaultNodeImage() string { return filepath.Join(p.ConfigDir, "node-image") }

// SetDefaultNodeImage makes ref the node image labs starts clusters with.
func SetDefaultNodeImage(p Paths, ref string) error {
	if err := writeAtomic(p.defaultNodeImage(), []byte(ref+"\n")); err != nil {
		return fmt.Errorf("recording the default node image: %w", err)
	}
	return nil
}

// ReadDefaultNodeImage is the node image SetDefaultNodeImage recorded, ""
// if none (or the file is unreadable: kind's default then applies).
func ReadDefaultNodeImage(p Paths) string {
	b, err := os.ReadFile(p.defaultNodeImage())
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
