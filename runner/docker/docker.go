// Package docker reaches the Docker engine through its SDK: the preflight
// that tells a learner Docker is missing or stopped, and facts about the
// engine such as its architecture.
package docker

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/docker/docker/client"
)

var (
	// ErrNotInstalled means there is no docker command (kind drives it).
	ErrNotInstalled = errors.New("docker is not installed")
	// ErrNotRunning means the docker command exists but no engine answers.
	ErrNotRunning = errors.New("docker is not running")
)

// Engine is a Docker engine reached with API version negotiation, since a
// laptop's engine may be older or newer than the SDK.
type Engine struct{ cli *client.Client }

// Connect returns an Engine for the environment's DOCKER_HOST (or the default
// socket). It does not contact the engine yet.
func Connect() (*Engine, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return &Engine{cli: cli}, nil
}

// Close releases the client.
func (e *Engine) Close() error { return e.cli.Close() }

// Preflight checks that the docker command exists and the engine answers.
func (e *Engine) Preflight(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("%w: install Docker Desktop (macOS, Windows) or docker.io / docker-ce (Linux), then try again", ErrNotInstalled)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := e.cli.Ping(ctx); err != nil {
		return fmt.Errorf("%w: no engine answers at %s; start Docker Desktop (or `sudo systemctl start docker`) and try again", ErrNotRunning, e.cli.DaemonHost())
	}
	return nil
}

// Arch is the engine's CPU architecture in Go's terms (amd64, arm64): the
// architecture of the kind nodes, and so of the images loaded into them.
func (e *Engine) Arch(ctx context.Context) (string, error) {
	info, err := e.cli.Info(ctx)
	if err != nil {
		return "", fmt.Errorf("docker info: %w", err)
	}
	switch info.Architecture {
	case "x86_64", "amd64":
		return "amd64", nil
	case "aarch64", "arm64":
		return "arm64", nil
	}
	return "", fmt.Errorf("docker engine architecture %q is not supported (want x86_64 or aarch64)", info.Architecture)
}

// ImageExists reports whether the engine has the image locally.
func (e *Engine) ImageExists(ctx context.Context, ref string) (bool, error) {
	_, err := e.cli.ImageInspect(ctx, ref)
	if err == nil {
		return true, nil
	}
	if client.IsErrNotFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("inspecting image %s: %w", ref, err)
}
