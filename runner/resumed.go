package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
)

// After a resume, labs start shows the step as soon as the API server
// answers and the nodes are Ready; the system pods (DNS, the network
// plugin, kube-proxy) are still coming back. After creating a cluster it
// shows the step once kind has joined the nodes and the images are in; the
// nodes become Ready as their network plugin starts. Either way labs start
// records which nodes started when (resumedRecord) and the commands that
// run checks wait for the nodes and those pods first (settle), once: the
// record is removed when they are Ready.

// resumedRecord is where labs start notes the nodes still starting.
func (p Paths) resumedRecord() string { return filepath.Join(p.StateDir, "resumed.json") }

type resumed struct {
	// Nodes: when each restarted node container started (zero: any pod
	// that runs will do, the cluster is new).
	Nodes map[string]time.Time `json:"nodes"`
	// Created: the cluster is new, not resumed.
	Created bool `json:"created,omitempty"`
}

// startingRecorded reports whether labs start left nodes still starting
// that no command has waited for yet.
func (r *Runner) startingRecorded() bool {
	_, err := os.Stat(r.Paths.resumedRecord())
	return err == nil
}

// noteStarting records the nodes a resume started, or those of a new
// cluster (created), for settle. A record no command has waited for yet
// (an interrupted start, a resume of a cluster just created) is merged in:
// each node's later start counts.
func (r *Runner) noteStarting(nodes map[string]time.Time, created bool) error {
	rec, _, ok := r.readResumed()
	if !ok || rec.Nodes == nil {
		rec.Nodes = map[string]time.Time{}
	}
	rec.Created = rec.Created || created
	for n, t := range nodes {
		if prev, ok := rec.Nodes[n]; !ok || t.After(prev) {
			rec.Nodes[n] = t
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.Paths.StateDir, 0o700); err != nil {
		return err
	}
	tmp := r.Paths.resumedRecord() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, r.Paths.resumedRecord())
}

// readResumed reads the record as it is on disk (raw: nil when there is
// none); ok is false when there is none or it is damaged.
func (r *Runner) readResumed() (rec resumed, raw []byte, ok bool) {
	raw, err := os.ReadFile(r.Paths.resumedRecord())
	if err != nil || json.Unmarshal(raw, &rec) != nil {
		return resumed{}, raw, false
	}
	return rec, raw, true
}

// settle waits, once after a resume or a create, until the nodes and the
// system pods on them run and are Ready, saying so; a command that judges or
// loads the cluster calls it before it does. Without a record (no resume
// since, or a damaged one) it returns at once.
func (r *Runner) settle(ctx context.Context, c kubernetes.Interface) error {
	rec, b, ok := r.readResumed()
	if b == nil {
		return nil // none
	}
	if !ok || len(rec.Nodes) == 0 {
		// A damaged record holds nothing to wait for.
		_ = os.Remove(r.Paths.resumedRecord())
		return nil
	}
	if rec.Created {
		r.Display.Status("the cluster is new: waiting for its nodes and system pods (DNS, network) to be Ready first")
	} else {
		r.Display.Status("the cluster was resumed: waiting for its system pods (DNS, network) to be Ready first")
	}
	if err := r.waitNodesReady(ctx, c, r.Nodes, 3*time.Minute); err != nil {
		return err
	}
	if err := r.waitSystemPods(ctx, c, rec.Nodes, 3*time.Minute); err != nil {
		return err
	}
	// A start in another terminal may have recorded a newer resume
	// meanwhile: that one stays.
	if now, err := os.ReadFile(r.Paths.resumedRecord()); err == nil && bytes.Equal(now, b) {
		_ = os.Remove(r.Paths.resumedRecord())
	}
	return nil
}
