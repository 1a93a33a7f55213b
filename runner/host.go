package runner

import (
	"os"
	"runtime"
)

// Host reads facts of the machine labs runs on, for `labs doctor`.
type Host interface {
	ReadFile(path string) ([]byte, error)
	// FreeBytes is the free space of the file system holding path.
	FreeBytes(path string) (uint64, error)
	GOOS() string
}

// realHost is the machine itself.
type realHost struct{}

func (realHost) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }
func (realHost) GOOS() string                         { return runtime.GOOS }

func (r *Runner) host() Host {
	if r.Host != nil {
		return r.Host
	}
	return realHost{}
}
