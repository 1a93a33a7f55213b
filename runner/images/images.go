// Package images assembles the lab workload image from the embedded labapp
// binary, in Go: no Dockerfile, no docker build, no registry. The result is a
// OCI image-layout tarball that kind loads into every node.
package images

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	_ "embed" // the recipe, for Key
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/labs-dev/labs/assets"
)

// Repository is the image name lab manifests use, with imagePullPolicy
// IfNotPresent: a tag that was never loaded fails to pull, as a typo should.
const Repository = "labapp"

// User is who the workload runs as: not root, so the image runs where Pod
// Security restricted is enforced (nothing the labs do inside needs root).
const User = "65532:65532"

// Tags are the versions labs load; they run the same binary and differ in
// the version the app reports (body and Server header) and in switches.
func tags() []string { return []string{"v1", "v2", "v3"} }

// Applets are linked to /labapp in /bin; labapp runs the one it is called
// as. TestAppletsMatchLabapp keeps this list equal to labapp's own.
func Applets() []string {
	return []string{"serve", "load", "hog", "sh", "kill", "curl", "cat", "ls", "ps", "touch", "rm", "mkdir", "sleep", "date", "env", "hostname", "echo", "version", "labapp"}
}

// switches are the behaviours a tag turns on, for the labs that need them.
func switches(tag string) []string {
	if tag == "v3" {
		return []string{"LABAPP_BROKEN=1"} // a bad release: never healthy, never ready
	}
	return nil
}

// Tags returns the image references that Archive contains.
func Tags() []string {
	out := make([]string, len(tags()))
	for i, t := range tags() {
		out[i] = Repository + ":" + t
	}
	return out
}

// recipe is this file: how the image is made. It is part of Key, so a
// change here makes every node load the images again.
//
//go:embed images.go
var recipe []byte

// Key names the workload images this build of labs makes, without making
// them (that takes seconds): a hash of the embedded labapp binaries, the
// recipe (this file: tags, user, applets, layout) and the image library's
// version. A node recorded with this key holds these images, so a warm
// start loads nothing.
func Key() (string, error) {
	h := sha256.New()
	h.Write(recipe)
	for _, arch := range assets.Arches() {
		b, err := assets.Compressed(arch)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "\x00%s\x00%d\x00", arch, len(b))
		h.Write(b)
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/google/go-containerregistry" {
				fmt.Fprintf(h, "\x00%s@%s", d.Path, d.Version)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Arch is the image architecture of a container engine that reports
// machine as `uname -m` does ("x86_64", "aarch64"); "" when labs embeds no
// workload for it.
func Arch(machine string) string {
	switch machine {
	case "x86_64", "amd64":
		machine = "amd64"
	case "aarch64", "arm64":
		machine = "arm64"
	}
	if slices.Contains(assets.Arches(), machine) {
		return machine
	}
	return ""
}

// Indexes builds every tag of the workload image, each an image index for
// arches (every embedded architecture if none), in the order of Tags.
func Indexes(arches ...string) ([]v1.ImageIndex, error) {
	if len(arches) == 0 {
		arches = assets.Arches()
	}
	bases := map[string]v1.Image{}
	for _, arch := range arches {
		var err error
		if bases[arch], err = baseImage(arch); err != nil {
			return nil, err
		}
	}
	var out []v1.ImageIndex
	for _, t := range tags() {
		var adds []mutate.IndexAddendum
		for _, arch := range arches {
			img, err := withConfig(bases[arch], arch, t)
			if err != nil {
				return nil, err
			}
			adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
		}
		out = append(out, mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...))
	}
	return out, nil
}

// Archive returns every tag of the workload image for arches (all embedded
// ones if none) as one OCI image-layout tarball: a node needs only its own
// architecture, half the bytes to build and import.
func Archive(arches ...string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "labapp-image-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return nil, fmt.Errorf("creating image layout: %w", err)
	}
	idxs, err := Indexes(arches...)
	if err != nil {
		return nil, err
	}
	for i, t := range tags() {
		err := p.AppendIndex(idxs[i], layout.WithAnnotations(map[string]string{
			// containerd names imported images by this annotation.
			"io.containerd.image.name":          "docker.io/library/" + Repository + ":" + t,
			"org.opencontainers.image.ref.name": t,
		}))
		if err != nil {
			return nil, fmt.Errorf("writing %s:%s: %w", Repository, t, err)
		}
	}
	return tarDir(dir)
}

func baseImage(arch string) (v1.Image, error) {
	bin, err := assets.Labapp(arch)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootfs(bin)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("labapp layer for %s: %w", arch, err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	return mutate.AppendLayers(img, layer)
}

// tarDir packs an image layout directory as the tarball ctr imports.
func tarDir(dir string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("packing image layout: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func withConfig(base v1.Image, arch, version string) (v1.Image, error) {
	cf, err := base.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config.Entrypoint = []string{"/labapp"}
	cf.Config.Cmd = []string{"serve"}
	cf.Config.Env = append([]string{"PATH=/bin", "LABAPP_VERSION=" + version}, switches(version)...)
	cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	cf.Config.StopSignal = "SIGTERM"
	// Numeric, so runAsNonRoot can verify it: the app runs under Pod
	// Security restricted as it does anywhere else.
	cf.Config.User = User
	return mutate.ConfigFile(base, cf)
}

// rootfs is the image's only layer: the binary, busybox-style links to it,
// and the writable directories the app and the labs use.
func rootfs(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	entries := []tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "run/", Typeflag: tar.TypeDir, Mode: 0o1777}, // the app's PID file, written as User
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777},
		{Name: "labapp", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))},
	}
	for _, applet := range Applets() {
		entries = append(entries, tar.Header{Name: "bin/" + applet, Typeflag: tar.TypeSymlink, Linkname: "/labapp", Mode: 0o777})
	}
	for _, h := range entries {
		h.ModTime, h.Format = epoch, tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(bin); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
