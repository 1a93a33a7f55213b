package runner

import (
	"context"
	"os"
	"slices"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

// The workload images go into a node once: a warm start loads nothing, a
// node recreated under the same name (a new container) gets them again,
// and a damaged record costs a reload, not an error. Only the engine's
// architecture is built.
func TestImagesLoadOnlyWhereMissing(t *testing.T) {
	r, cl, _ := newTestRunner(t, fake.NewSimpleClientset(readyNode()), fakeDocker{})
	ctx := context.Background()
	if err := cl.Create(ctx, "node:test"); err != nil {
		t.Fatal(err)
	}
	if err := r.loadImages(ctx); err != nil {
		t.Fatal(err)
	}
	if cl.loaded != 1 || !slices.Equal(cl.loadedInto, []string{fakeNode}) {
		t.Fatalf("first load: %d loads into %v", cl.loaded, cl.loadedInto)
	}
	oneArch := cl.archiveSize

	if err := r.loadImages(ctx); err != nil {
		t.Fatal(err)
	}
	if cl.loaded != 1 {
		t.Fatalf("warm start loaded the images again (%d loads)", cl.loaded)
	}

	// The same name, a new container: loaded again.
	if err := cl.Create(ctx, "node:test"); err != nil {
		t.Fatal(err)
	}
	if err := r.loadImages(ctx); err != nil {
		t.Fatal(err)
	}
	if cl.loaded != 2 {
		t.Fatalf("a recreated node was not loaded (%d loads)", cl.loaded)
	}

	if err := os.WriteFile(r.Paths.imagesRecord(), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.loadImages(ctx); err != nil {
		t.Fatalf("a damaged record: %v", err)
	}
	if cl.loaded != 3 {
		t.Fatalf("a damaged record did not reload (%d loads)", cl.loaded)
	}

	// An engine that does not say its architecture gets all of them: more
	// bytes than the one architecture above.
	r.Docker = fakeDocker{err: os.ErrInvalid}
	if err := os.Remove(r.Paths.imagesRecord()); err != nil {
		t.Fatal(err)
	}
	if err := r.loadImages(ctx); err != nil {
		t.Fatal(err)
	}
	if cl.archiveSize <= oneArch*3/2 {
		t.Fatalf("all architectures: %d bytes, one: %d", cl.archiveSize, oneArch)
	}
}
