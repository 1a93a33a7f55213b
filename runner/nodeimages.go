package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/labs-dev/labs/runner/images"
)

// imagesRecord is the file that says which workload images each node
// container holds: container ID → images.Key. A container ID, not a name:
// a node recreated under the same name is a new container, empty again.
// It lives and goes with the cluster lock's state directory.
func (p Paths) imagesRecord() string { return filepath.Join(p.StateDir, "node-images.json") }

// loadImages builds the workload images for the nodes' architecture and
// imports them into each node that lacks this build's images: labs never
// pulls, and a warm start (every node recorded) builds and loads nothing.
// The caller holds the cluster lock.
func (r *Runner) loadImages(ctx context.Context) error {
	key, err := images.Key()
	if err != nil {
		return fmt.Errorf("identifying the workload image: %w", err)
	}
	nodes, err := r.Cluster.Nodes(ctx)
	if err != nil {
		return err
	}
	rec := readImagesRecord(r.Paths.imagesRecord())
	var need []string
	for _, n := range nodes {
		if rec[n.ID] != key || n.ID == "" {
			need = append(need, n.Name)
		}
	}
	if len(need) == 0 {
		return nil
	}
	start := time.Now()
	// The nodes run the engine's architecture; an engine that does not say
	// (or one labs has no workload for) gets every architecture.
	var arches []string
	if f, err := r.Docker.Facts(ctx); err == nil {
		if a := images.Arch(f.Arch); a != "" {
			arches = []string{a}
		}
	}
	archive, err := images.Archive(arches...)
	if err != nil {
		return fmt.Errorf("building the workload image: %w", err)
	}
	what := "all architectures"
	if len(arches) == 1 {
		what = "linux/" + arches[0]
	}
	r.Display.Status(fmt.Sprintf("loading images %v (%s, %d KiB) into %d node(s)", images.Tags(), what, len(archive)>>10, len(need)))
	if err := r.Cluster.LoadImageArchive(ctx, archive, need); err != nil {
		return fmt.Errorf("loading the workload image: %w", err)
	}
	// Only the nodes that exist now are kept: a deleted cluster's IDs go.
	next := map[string]string{}
	for _, n := range nodes {
		if n.ID != "" {
			next[n.ID] = key
		}
	}
	if err := writeImagesRecord(r.Paths.imagesRecord(), next); err != nil {
		// The images are in; the next start loads them again, no harm.
		r.Display.Status(fmt.Sprintf("warning: could not record the loaded images (%v)", err))
	}
	r.Display.Done(fmt.Sprintf("images loaded in %.1fs", time.Since(start).Seconds()))
	return nil
}

// readImagesRecord reads the record; a missing or damaged file is an empty
// record (every node gets the images again), never an error.
func readImagesRecord(path string) map[string]string {
	rec := map[string]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		return rec
	}
	if json.Unmarshal(b, &rec) != nil {
		return map[string]string{}
	}
	return rec
}

func writeImagesRecord(path string, rec map[string]string) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'))
}

// forgetNodeImages drops the record: the next start loads the images into
// every node again (they were removed behind labs' back).
func (r *Runner) forgetNodeImages() error {
	if err := os.Remove(r.Paths.imagesRecord()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
