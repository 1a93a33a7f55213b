// Command labs turns a laptop into a Kubernetes training lab.
package main

import (
	"os"

	"github.com/labs-dev/labs/cmd/app"
)

func main() {
	os.Exit(app.Main())
}
