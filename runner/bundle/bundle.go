// Package bundle is `labs bundle`: everything a class needs on a USB stick
// for a room without Internet (the labs binaries, the kind node image, the
// workload images), with checksums, and the import that checks them all
// before it loads anything into a learner's Docker.
package bundle

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/labs-dev/labs/runner/buildinfo"
	"github.com/labs-dev/labs/runner/images"
)

// The files of a bundle, relative to its folder.
const (
	ManifestFile = "bundle.json"
	SumsFile     = "SHA256SUMS" // `sha256sum -c SHA256SUMS` reads it too
	NodeFile     = "images/node.tar.gz"
	WorkloadFile = "images/labapp.oci.tar"
	ReadmeFile   = "README.txt"
)

// Format is the bundle layout version this labs writes and reads.
const Format = 1

// Manifest is bundle.json: what the bundle holds.
type Manifest struct {
	Format    int            `json:"format"`
	Labs      buildinfo.Info `json:"labs"`
	NodeImage string         `json:"nodeImage"`
	Binaries  []string       `json:"binaries"`
	Created   time.Time      `json:"created"`
}

// Docker is what a bundle needs of the container engine (runner/docker).
type Docker interface {
	Preflight(ctx context.Context) error
	ImagePresent(ctx context.Context, ref string) (bool, error)
	SaveImage(ctx context.Context, ref string, w io.Writer) error
	LoadImage(ctx context.Context, r io.Reader) error
	TagImage(ctx context.Context, ref, tag string) error
}

// CreateOptions say what goes into a new bundle.
type CreateOptions struct {
	Dir       string // the bundle's folder; must not exist or be empty
	NodeImage string // the kind node image, present in Docker
	Self      string // this labs executable
	// Binaries, if set, is a folder of release builds (GoReleaser's dist/):
	// every labs binary under it goes in, named by its platform.
	Binaries string
	Build    buildinfo.Info
	Progress func(string)
}

// Create writes a bundle into o.Dir. It works in a sibling folder and
// renames it at the end, so an error or Ctrl-C leaves no half bundle.
func Create(ctx context.Context, d Docker, o CreateOptions) (*Manifest, error) {
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	if err := emptyOrMissing(o.Dir); err != nil {
		return nil, err
	}
	if err := d.Preflight(ctx); err != nil {
		return nil, err
	}
	if ok, err := d.ImagePresent(ctx, o.NodeImage); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("the node image %s is not in Docker here: start a lab once with it (`labs start LAB --node-image %s`) or load it, then run `labs bundle create` again", o.NodeImage, o.NodeImage)
	}
	// A reference by digest (kind's default is one) would be saved
	// untagged and could not be started by name offline: it goes into the
	// bundle under its tag alone.
	if i := strings.Index(o.NodeImage, "@"); i > 0 {
		tag := o.NodeImage[:i]
		if !strings.Contains(tag[strings.LastIndex(tag, "/")+1:], ":") {
			tag += ":latest"
		}
		if err := d.TagImage(ctx, o.NodeImage, tag); err != nil {
			return nil, err
		}
		o.NodeImage = tag
	}
	// The work folder: beside DIR when DIR is new, inside it when it
	// exists (an empty stick's mount point, whose parent is not writable).
	inside := false
	if _, err := os.Stat(o.Dir); err == nil {
		inside = true
	}
	parent := filepath.Dir(filepath.Clean(o.Dir))
	if inside {
		parent = o.Dir
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, ".labs-bundle-partial-")
	if err != nil {
		return nil, fmt.Errorf("creating the bundle: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()

	m := &Manifest{Format: Format, Labs: o.Build, NodeImage: o.NodeImage, Created: time.Now().UTC().Truncate(time.Second)}
	bins, err := binaries(o)
	if err != nil {
		return nil, err
	}
	for _, b := range bins {
		o.Progress("copying " + b.name)
		if err := copyFile(b.src, filepath.Join(tmp, "bin", b.name), 0o755); err != nil {
			return nil, fmt.Errorf("copying %s: %w", b.src, err)
		}
		m.Binaries = append(m.Binaries, "bin/"+b.name)
	}

	o.Progress(fmt.Sprintf("saving the node image %s (about 1 GB; a minute or two)", o.NodeImage))
	if err := writeNodeImage(ctx, d, o.NodeImage, filepath.Join(tmp, NodeFile), o.Progress); err != nil {
		return nil, err
	}
	o.Progress("writing the workload images " + strings.Join(images.Tags(), " "))
	archive, err := images.Archive()
	if err != nil {
		return nil, fmt.Errorf("building the workload images: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, WorkloadFile), archive, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, ReadmeFile), []byte(readme(m)), 0o644); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, ManifestFile), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	o.Progress("writing checksums")
	if err := writeSums(tmp); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := syncTree(tmp); err != nil {
		return nil, fmt.Errorf("writing the bundle to disk: %w", err)
	}
	if err := moveInto(tmp, o.Dir, inside); err != nil {
		return nil, fmt.Errorf("moving the bundle into place: %w", err)
	}
	done = true
	return m, nil
}

// moveInto puts the finished work folder tmp in place as dir: a rename of
// the folder, or of each entry when tmp is inside dir. What was moved goes
// again on failure, so dir is as it was.
func moveInto(tmp, dir string, inside bool) error {
	if !inside {
		if err := os.Rename(tmp, dir); err != nil {
			return err
		}
		// MkdirTemp made it private; a stick is for everyone in the room.
		return os.Chmod(dir, 0o755)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	var moved []string
	for _, e := range entries {
		dst := filepath.Join(dir, e.Name())
		if err := os.Rename(filepath.Join(tmp, e.Name()), dst); err != nil {
			for _, m := range moved {
				_ = os.RemoveAll(m)
			}
			return err
		}
		moved = append(moved, dst)
	}
	return os.Remove(tmp)
}

// syncTree flushes every file and folder under dir to the disk, so a stick
// pulled out right after "ready" holds the whole bundle.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
			return err
		}
		return nil
	})
}

func emptyOrMissing(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bundle folder %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("bundle folder %s is not empty: give a new folder (a bundle is never written over other files)", dir)
	}
	return nil
}

type binary struct{ src, name string }

// platformDir matches GoReleaser's folders, labs_linux_amd64_v1 and the like.
var platformDir = regexp.MustCompile(`^labs_(linux|darwin|windows)_(amd64|arm64)(_.*)?$`)

// binaries are this executable and, with o.Binaries, every release build
// found there, one per platform (this executable's platform from there
// too, when it is a release build of it).
func binaries(o CreateOptions) ([]binary, error) {
	byName := map[string]binary{}
	self := "labs_" + runtime.GOOS + "_" + runtime.GOARCH
	if runtime.GOOS == "windows" {
		self += ".exe"
	}
	byName[self] = binary{src: o.Self, name: self}
	if o.Binaries != "" {
		entries, err := os.ReadDir(o.Binaries)
		if err != nil {
			return nil, fmt.Errorf("release builds folder: %w", err)
		}
		found := 0
		for _, e := range entries {
			sm := platformDir.FindStringSubmatch(e.Name())
			if !e.IsDir() || sm == nil {
				continue
			}
			name, file := "labs_"+sm[1]+"_"+sm[2], "labs"
			if sm[1] == "windows" {
				name, file = name+".exe", "labs.exe"
			}
			src := filepath.Join(o.Binaries, e.Name(), file)
			if _, err := os.Stat(src); err != nil {
				continue
			}
			byName[name] = binary{src: src, name: name}
			found++
		}
		if found == 0 {
			return nil, fmt.Errorf("no labs release builds in %s (expected folders like labs_linux_amd64_v1/labs, as `make release` writes to dist/)", o.Binaries)
		}
	}
	var out []binary
	for _, b := range byName {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// writeNodeImage saves ref gzipped (the fastest level: the stick's size
// matters less than the instructor's time) to path.
func writeNodeImage(ctx context.Context, d Docker, ref, path string, progress func(string)) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw, err := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err != nil {
		return err
	}
	pw := &progressWriter{w: zw, every: 256 << 20, say: func(n int64) { progress(fmt.Sprintf("saved %d MiB of the node image", n>>20)) }}
	if err := d.SaveImage(ctx, ref, pw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

type progressWriter struct {
	w     io.Writer
	n     int64
	next  int64
	every int64
	say   func(int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	if p.next == 0 {
		p.next = p.every
	}
	if p.n >= p.next {
		p.say(p.n)
		p.next += p.every
	}
	return n, err
}

// writeSums writes SHA256SUMS over every file of dir, sorted by path.
func writeSums(dir string) error {
	var lines []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		sum, err := fileSum(path)
		if err != nil {
			return err
		}
		lines = append(lines, sum+"  "+filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return fmt.Errorf("computing checksums: %w", err)
	}
	// By path, as a reader looks them up (a line starts with its hash).
	sort.Slice(lines, func(i, j int) bool { return lines[i][66:] < lines[j][66:] })
	return os.WriteFile(filepath.Join(dir, SumsFile), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Verify checks every file SHA256SUMS lists against its checksum and
// returns the manifest. The first file that is missing, truncated or
// changed is named.
func Verify(dir string, progress func(string)) (*Manifest, error) {
	if progress == nil {
		progress = func(string) {}
	}
	sums, err := readSums(dir)
	if err != nil {
		return nil, err
	}
	for _, need := range []string{ManifestFile, NodeFile} {
		if _, ok := sums[need]; !ok {
			return nil, fmt.Errorf("bundle %s: %s lists no %s: this is not a labs bundle, or an incomplete one; copy the whole folder again", dir, SumsFile, need)
		}
	}
	paths := make([]string, 0, len(sums))
	for p := range sums {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		progress("checking " + p)
		full := filepath.Join(dir, filepath.FromSlash(p))
		if fi, err := os.Lstat(full); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("bundle %s: %s is missing; copy the whole folder again", dir, p)
		} else if err == nil && !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("bundle %s: %s is not a plain file (a link or a device); copy the whole folder again", dir, p)
		}
		got, err := fileSum(full)
		if err != nil {
			return nil, fmt.Errorf("bundle %s: reading %s: %w", dir, p, err)
		}
		if got != sums[p] {
			return nil, fmt.Errorf("bundle %s: %s does not match its checksum (expected sha256 %s…, found %s…): the file is truncated or was changed; copy it again from the original", dir, p, sums[p][:12], got[:12])
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("bundle %s: %s: %w", dir, ManifestFile, err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("bundle %s has format %d; this labs reads format %d: use the labs binary from the bundle's bin/ folder", dir, m.Format, Format)
	}
	if m.NodeImage == "" {
		return nil, fmt.Errorf("bundle %s: %s names no node image", dir, ManifestFile)
	}
	return &m, nil
}

var sumLine = regexp.MustCompile(`^([0-9a-f]{64}) [ *](\S.*)$`)

func readSums(dir string) (map[string]string, error) {
	f, err := os.Open(filepath.Join(dir, SumsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has no %s: it is not a labs bundle (`labs bundle create DIR` makes one)", dir, SumsFile)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		m := sumLine.FindStringSubmatch(line)
		if m == nil || !filepath.IsLocal(filepath.FromSlash(m[2])) {
			return nil, fmt.Errorf("bundle %s: %s line %d is not `SHA256  PATH`: the file is damaged; copy the whole folder again", dir, SumsFile, n)
		}
		sums[m[2]] = m[1]
	}
	return sums, sc.Err()
}

// Import verifies the bundle in dir, then loads its node image into
// Docker. Nothing is loaded unless every file checks out.
func Import(ctx context.Context, d Docker, dir string, progress func(string)) (*Manifest, error) {
	if progress == nil {
		progress = func(string) {}
	}
	// The bundle first: a damaged one is named whether Docker runs or not.
	m, err := Verify(dir, progress)
	if err != nil {
		return nil, err
	}
	if err := d.Preflight(ctx); err != nil {
		return nil, err
	}
	// docker load tags whatever the archive names: it must name exactly the
	// node image, or it could replace other images of this machine.
	tags, err := savedTags(filepath.Join(dir, NodeFile))
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %s: %w", dir, NodeFile, err)
	}
	if len(tags) != 1 || tags[0] != m.NodeImage {
		return nil, fmt.Errorf("bundle %s: %s holds the images %v, expected only %s; this bundle was not made by labs bundle create", dir, NodeFile, tags, m.NodeImage)
	}
	progress(fmt.Sprintf("loading the node image %s into Docker (a minute or so)", m.NodeImage))
	f, err := os.Open(filepath.Join(dir, NodeFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %s: %w", dir, NodeFile, err)
	}
	if err := d.LoadImage(ctx, zr); err != nil {
		return nil, err
	}
	ok, err := d.ImagePresent(ctx, m.NodeImage)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("bundle %s: Docker loaded %s but holds no image %s afterwards", dir, NodeFile, m.NodeImage)
	}
	return m, nil
}

// savedTags reads the names a gzipped `docker save` archive gives its
// images (its manifest.json).
func savedTags(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no manifest.json in it: not a docker save archive")
		}
		if err != nil {
			return nil, err
		}
		if h.Name != "manifest.json" {
			continue
		}
		var entries []struct{ RepoTags []string }
		if err := json.NewDecoder(tr).Decode(&entries); err != nil {
			return nil, fmt.Errorf("its manifest.json: %w", err)
		}
		var tags []string
		for _, e := range entries {
			tags = append(tags, e.RepoTags...)
		}
		if len(entries) != 1 {
			return append(tags, fmt.Sprintf("(%d images)", len(entries))), nil
		}
		return tags, nil
	}
}

func readme(m *Manifest) string {
	var b strings.Builder
	fmt.Fprintf(&b, `labs offline bundle (%s, made %s)

For a room without Internet. Copy this whole folder to each laptop (or run
it from the stick), then:

  1. Put the labs for your system on your PATH, from bin/:
`, m.Labs.Version, m.Created.Format("2006-01-02"))
	for _, bin := range m.Binaries {
		fmt.Fprintf(&b, "       %s\n", bin)
	}
	fmt.Fprintf(&b, `     (Windows: run labs inside WSL 2 with the linux binary.)
  2. With Docker running:   labs bundle import THIS-FOLDER
     It checks every file against SHA256SUMS first (a truncated or changed
     file is named and nothing is loaded), then loads the kind node image
     %s into Docker and makes it labs' default.
  3. labs start selfhealing   (no network needed from here on)

Files:
  %s   the kind node image (docker save, gzip)
  %s  the lab workload images (OCI layout, every architecture;
       labs carries them itself, this copy is for a class registry)
  %s   what this bundle holds;  %s  the checksums (sha256sum -c)
`, m.NodeImage, NodeFile, WorkloadFile, ManifestFile, SumsFile)
	return b.String()
}
