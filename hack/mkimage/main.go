// Command mkimage cross-compiles the lab workload (assets/labapp) for every
// architecture labs supports and writes the gzipped binaries that package
// assets embeds. The build is reproducible (-trimpath, no VCS stamp, gzip
// without a timestamp), so CI can rebuild and compare.
package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run() error {
	tmp, err := os.MkdirTemp("", "mkimage")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, arch := range []string{"amd64", "arm64"} {
		bin := filepath.Join(tmp, "labapp-"+arch)
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", bin, "./assets/labapp")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building labapp for linux/%s: %w", arch, err)
		}
		raw, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return err
		}
		if _, err := zw.Write(raw); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		out := filepath.Join("assets", "image", "labapp-linux-"+arch+".gz")
		// CI compiles the release binary, which embeds these files, while
		// verify-image runs this: an unchanged file is left alone, a
		// changed one replaced whole (rename), never seen half-written.
		if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, buf.Bytes()) {
			fmt.Fprintf(os.Stderr, "%s is up to date (%d KiB)\n", out, buf.Len()>>10)
			continue
		}
		if err := os.WriteFile(out+".tmp", buf.Bytes(), 0o644); err != nil {
			return err
		}
		if err := os.Rename(out+".tmp", out); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s (%d KiB, %d KiB unpacked)\n", out, buf.Len()>>10, len(raw)>>10)
	}
	return nil
}
