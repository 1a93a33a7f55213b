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
