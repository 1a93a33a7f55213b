// Command labapp is the workload every lab runs. It is a multi-call binary:
// the image links /bin/kill and /bin/curl to it, so `kubectl exec POD -- kill 1`
// works in a container that has no other userland.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	case "load":
		err = load(rest, os.Stdout, os.Stderr)
	case "sh":
		err = sh(rest, os.Stdin, os.Stdout, os.Stderr)
	case "cat":
		err = cat(rest, os.Stdin, os.Stdout)
	case "ls":
		err = ls(rest, os.Stdout)
	case "ps":
		err = ps(os.Stdout, "/proc")
	case "touch":
		err = touch(rest)
	case "rm":
		err = rm(rest)
	case "mkdir":
		err = mkdir(rest)
	case "sleep":
		err = sleep(rest)
	case "date":
		err = date(rest, os.Stdout)
	case "env":
		err = env(os.Stdout)
	case "hostname":
		err = hostname(os.Stdout)
	case "echo":
		err = echo(rest, os.Stdout)
	case "version":
		fmt.Println(version())
	case "applets":
		fmt.Println(strings.Join(applets(), "\n"))
	default:
		err = fmt.Errorf("unknown command %q (want one of: %s)", name, strings.Join(applets(), ", "))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "labapp:", err)
		return 1
	}
	return 0
}

// applets are the commands labapp answers to; the image links each in /bin.
func applets() []string {
	return []string{"serve", "load", "hog", "sh", "kill", "curl", "cat", "ls", "ps", "touch", "rm", "mkdir", "sleep", "date", "env", "hostname", "echo", "version"}
}

// version comes from the image config (LABAPP_VERSION), so one binary serves
// every tag.
func version() string {
	if v := os.Getenv("LABAPP_VERSION"); v != "" {
		return v
	}
	return "dev"
}
