// Command labapp is the workload every lab runs. It is a multi-call binary:
// the image links /bin/kill and /bin/curl to it, so `kubectl exec POD -- kill 1`
// works in a container that has no other userland.
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	os.Exit(run(os.Args))
}

func run(args []string) int {
	name := filepath.Base(args[0])
	rest := args[1:]
	if name == "labapp" || name == "main" {
		if len(rest) == 0 {
			rest = []string{"serve"}
		}
		name, rest = rest[0], rest[1:]
	}
	var err error
	switch name {
	case "serve":
		err = serve(rest)
	case "hog":
		err = hog(rest)
	case "kill":
		err = kill(rest)
	case "curl":
		err = curl(rest, os.Stdout)
	case "version":
		fmt.Println(version())
	default:
		err = fmt.Errorf("unknown command %q (want serve, hog, kill, curl or version)", name)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "labapp:", err)
		return 1
	}
	return 0
}

// version comes from the image config (LABAPP_VERSION), so one binary serves
// every tag.
func version() string {
	if v := os.Getenv("LABAPP_VERSION"); v != "" {
		return v
	}
	return "dev"
}
