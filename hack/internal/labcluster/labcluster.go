// Package labcluster gives the bench tools the lab cluster's client
// config: LABS_CLUSTER_NAME's, else the learner's.
package labcluster

import (
	"fmt"
	"os"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/labs-dev/labs/runner"
)

// Config reads the lab cluster's own kubeconfig.
func Config() (*rest.Config, error) {
	cluster := os.Getenv("LABS_CLUSTER_NAME")
	if cluster == "" {
		cluster = runner.DefaultCluster
	}
	paths, err := runner.DefaultPaths(cluster)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", paths.Kubeconfig())
	if err != nil {
		return nil, fmt.Errorf("no lab cluster (%v): run `labs start LAB` first", err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}
