package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labs-dev/labs/runner/buildinfo"
)

// fakeDocker holds images by name, each saved as a real `docker save`
// tar (a layer and a manifest.json naming it); LoadImage records what it
// was given.
type fakeDocker struct {
	images   map[string]bool
	tagged   map[string]string
	layer    []byte
	loaded   []byte
	loads    int
	manifest string // if set, the manifest.json saved instead
}

func newFake(names ...string) *fakeDocker {
	f := &fakeDocker{images: map[string]bool{}, tagged: map[string]string{}, layer: bytes.Repeat([]byte("layer "), 50000)}
	for _, n := range names {
		f.images[n] = true
	}
	return f
}

func (f *fakeDocker) Preflight(context.Context) error { return nil }
func (f *fakeDocker) ImagePresent(_ context.Context, ref string) (bool, error) {
	return f.images[ref], nil
}
func (f *fakeDocker) TagImage(_ context.Context, ref, tag string) error {
	if !f.images[ref] {
		return errors.New("no such image")
	}
	f.images[tag], f.tagged[tag] = true, ref
	return nil
}
func (f *fakeDocker) SaveImage(_ context.Context, ref string, w io.Writer) error {
	if !f.images[ref] {
		return errors.New("no such image")
	}
	manifest := f.manifest
	if manifest == "" {
		manifest = `[{"Config":"c.json","RepoTags":["` + ref + `"],"Layers":["l/layer.tar"]}]`
	}
	tw := tar.NewWriter(w)
	for _, file := range []struct {
		name string
		body []byte
	}{{"l/layer.tar", f.layer}, {"manifest.json", []byte(manifest)}} {
		if err := tw.WriteHeader(&tar.Header{Name: file.name, Mode: 0o644, Size: int64(len(file.body))}); err != nil {
			return err
		}
		if _, err := tw.Write(file.body); err != nil {
			return err
		}
	}
	return tw.Close()
}
func (f *fakeDocker) LoadImage(_ context.Context, r io.Reader) error {
	b, err := io.ReadAll(r)
	f.loaded, f.loads = b, f.loads+1
	return err
}

func newBundle(t *testing.T) (string, *fakeDocker) {
	t.Helper()
	d := newFake("node:test")
	self := filepath.Join(t.TempDir(), "labs")
	if err := os.WriteFile(self, []byte("#!labs"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "stick")
	m, err := Create(context.Background(), d, CreateOptions{Dir: dir, NodeImage: "node:test", Self: self, Build: buildinfo.Info{Version: "v9.9.9"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.NodeImage != "node:test" || len(m.Binaries) != 1 {
		t.Fatalf("manifest %+v", m)
	}
	return dir, d
}

// A bundle round trip: every file is listed in SHA256SUMS, the import
// checks them and loads exactly the image that was saved.
func TestCreateImport(t *testing.T) {
	dir, d := newBundle(t)
	sums, err := os.ReadFile(filepath.Join(dir, SumsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ManifestFile, NodeFile, WorkloadFile, ReadmeFile, "bin/labs_"} {
		if !strings.Contains(string(sums), "  "+f) {
			t.Errorf("%s does not list %s:\n%s", SumsFile, f, sums)
		}
	}
	readme, _ := os.ReadFile(filepath.Join(dir, ReadmeFile))
	if !strings.Contains(string(readme), "labs bundle import") || !strings.Contains(string(readme), "v9.9.9") {
		t.Errorf("README:\n%s", readme)
	}
	m, err := Import(context.Background(), d, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.NodeImage != "node:test" || !bytes.Contains(d.loaded, d.layer) {
		t.Fatalf("loaded %d bytes, not the saved layer", len(d.loaded))
	}
	// Nothing beside the bundle: the work folder was renamed into place.
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("beside the bundle: %v", entries)
	}
}

// A truncated, changed or missing file is named, and nothing is loaded.
func TestImportRefusesDamage(t *testing.T) {
	for name, damage := range map[string]func(dir string) error{
		"truncated node image": func(dir string) error {
			p := filepath.Join(dir, NodeFile)
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			return os.Truncate(p, fi.Size()-1)
		},
		"changed manifest": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"format":1,"nodeImage":"evil:latest"}`), 0o644)
		},
		"missing workload": func(dir string) error { return os.Remove(filepath.Join(dir, WorkloadFile)) },
	} {
		t.Run(name, func(t *testing.T) {
			dir, d := newBundle(t)
			if err := damage(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Import(context.Background(), d, dir, nil)
			if err == nil {
				t.Fatal("a damaged bundle was imported")
			}
			want := map[string]string{"truncated node image": NodeFile + " does not match its checksum", "changed manifest": ManifestFile + " does not match", "missing workload": WorkloadFile + " is missing"}[name]
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			if d.loads != 0 {
				t.Errorf("%d images loaded from a damaged bundle", d.loads)
			}
		})
	}
	// Not a bundle at all.
	if _, err := Verify(t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "not a labs bundle") {
		t.Errorf("an empty folder: %v", err)
	}
}

// Create refuses what it cannot do cleanly and leaves nothing behind.
func TestCreateRefuses(t *testing.T) {
	d := newFake("node:test")
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "keep.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(context.Background(), d, CreateOptions{Dir: full, NodeImage: "node:test", Self: os.Args[0]}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a non-empty folder: %v", err)
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "stick")
	if _, err := Create(context.Background(), d, CreateOptions{Dir: dir, NodeImage: "node:missing", Self: os.Args[0]}); err == nil || !strings.Contains(err.Error(), "not in Docker here") {
		t.Errorf("a missing node image: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Create(ctx, d, CreateOptions{Dir: dir, NodeImage: "node:test", Self: os.Args[0]}); err == nil {
		t.Error("a cancelled create succeeded")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

// --binaries takes every platform GoReleaser built.
func TestBinariesFromRelease(t *testing.T) {
	dist := t.TempDir()
	for _, p := range []string{"labs_linux_amd64_v1/labs", "labs_darwin_arm64_v8.0/labs", "labs_windows_amd64_v1/labs.exe", "labs_linux_amd64_v1/other"} {
		if err := os.MkdirAll(filepath.Join(dist, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dist, p), []byte(p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bins, err := binaries(CreateOptions{Self: os.Args[0], Binaries: dist})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range bins {
		names = append(names, b.name)
	}
	got := strings.Join(names, " ")
	for _, want := range []string{"labs_linux_amd64", "labs_darwin_arm64", "labs_windows_amd64.exe"} {
		if !strings.Contains(got, want) {
			t.Errorf("binaries %s lack %s", got, want)
		}
	}
	if _, err := binaries(CreateOptions{Self: os.Args[0], Binaries: t.TempDir()}); err == nil {
		t.Error("an empty release folder was accepted")
	}
}

// kind's default node image is a reference by digest: the bundle holds it
// under its tag, which a learner's labs starts offline.
func TestDigestReferenceBundledByTag(t *testing.T) {
	ref := "kindest/node:v1.34.0@sha256:" + strings.Repeat("ab", 32)
	d := newFake(ref)
	dir := filepath.Join(t.TempDir(), "stick")
	m, err := Create(context.Background(), d, CreateOptions{Dir: dir, NodeImage: ref, Self: os.Args[0]})
	if err != nil {
		t.Fatal(err)
	}
	if m.NodeImage != "kindest/node:v1.34.0" || d.tagged["kindest/node:v1.34.0"] != ref {
		t.Fatalf("bundled as %q (tagged %v)", m.NodeImage, d.tagged)
	}
	if _, err := Import(context.Background(), d, dir, nil); err != nil {
		t.Fatal(err)
	}
}

// An archive that names other images than the manifest's node image is
// refused before anything is loaded: docker load would tag them all.
func TestImportRefusesOtherImages(t *testing.T) {
	d := newFake("node:test")
	d.manifest = `[{"Config":"c.json","RepoTags":["node:test","ubuntu:latest"],"Layers":[]}]`
	self := filepath.Join(t.TempDir(), "labs")
	if err := os.WriteFile(self, []byte("#!labs"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "stick")
	if _, err := Create(context.Background(), d, CreateOptions{Dir: dir, NodeImage: "node:test", Self: self}); err != nil {
		t.Fatal(err)
	}
	_, err := Import(context.Background(), d, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "expected only node:test") || d.loads != 0 {
		t.Fatalf("err %v, %d loads", err, d.loads)
	}
}

// An empty folder that exists (a stick's mount point) is filled in place,
// its parent untouched; a link in a bundle is refused.
func TestCreateIntoExistingFolderAndLinks(t *testing.T) {
	parent := t.TempDir()
	stick := filepath.Join(parent, "stick")
	if err := os.Mkdir(stick, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(parent, 0o555); err != nil { // not writable (but by root)
		t.Fatal(err)
	}
	defer os.Chmod(parent, 0o755)
	d := newFake("node:test")
	if _, err := Create(context.Background(), d, CreateOptions{Dir: stick, NodeImage: "node:test", Self: os.Args[0]}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadDir(parent); len(got) != 1 {
		t.Errorf("beside the stick: %v", got)
	}
	entries, _ := os.ReadDir(stick)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("work folder left: %s", e.Name())
		}
	}
	if _, err := Verify(stick, nil); err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(stick, ReadmeFile)
	if err := os.Remove(readme); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/null", readme); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(stick, nil); err == nil || !strings.Contains(err.Error(), "not a plain file") {
		t.Errorf("a link: %v", err)
	}
}
