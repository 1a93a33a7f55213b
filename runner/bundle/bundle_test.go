package bundle

import (
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

// fakeDocker holds one image, saved as fixed bytes; LoadImage records what
// it was given.
type fakeDocker struct {
	image  string
	saved  []byte
	loaded []byte
	loads  int
}

func (f *fakeDocker) Preflight(context.Context) error { return nil }
func (f *fakeDocker) ImagePresent(_ context.Context, ref string) (bool, error) {
	return ref == f.image, nil
}
func (f *fakeDocker) SaveImage(_ context.Context, ref string, w io.Writer) error {
	if ref != f.image {
		return errors.New("no such image")
	}
	_, err := w.Write(f.saved)
	return err
}
func (f *fakeDocker) LoadImage(_ context.Context, r io.Reader) error {
	b, err := io.ReadAll(r)
	f.loaded, f.loads = b, f.loads+1
	return err
}

func newBundle(t *testing.T) (string, *fakeDocker) {
	t.Helper()
	d := &fakeDocker{image: "node:test", saved: bytes.Repeat([]byte("layer "), 50000)}
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
	if m.NodeImage != "node:test" || !bytes.Equal(d.loaded, d.saved) {
		t.Fatalf("loaded %d bytes, saved %d", len(d.loaded), len(d.saved))
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
	d := &fakeDocker{image: "node:test", saved: []byte("x")}
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
