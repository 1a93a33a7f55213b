// Command labs turns a laptop into a Kubernetes training lab.
package main

import (
	"os"

	"github.com/labs-dev/labs/cmd/app"
)

// version is set by a release build (-ldflags "-X main.version=v1.2.3",
// see .goreleaser.yaml); a link-time constant, never written at run time.
var version string

func main() {
	os.Exit(app.Main(version))
}
