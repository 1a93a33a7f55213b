//go:build e2e

package app

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kind/pkg/cluster"
)

// deleteCluster removes a test cluster. kind edits the kubeconfig it is
// given, so it gets a throwaway one, never the user's.
func deleteCluster(t *testing.T, name string) {
	dir, err := os.MkdirTemp("", "labs-e2e-cleanup")
	if err != nil {
		t.Error(err)
		return
	}
	defer os.RemoveAll(dir)
	p := cluster.NewProvider(cluster.ProviderWithDocker())
	if err := p.Delete(name, filepath.Join(dir, "kubeconfig")); err != nil {
		t.Errorf("deleting cluster %s: %v", name, err)
	}
}
