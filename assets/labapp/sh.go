package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// sh is a POSIX-like shell (mvdan.cc/sh's interpreter), so
// `kubectl exec -it POD -- sh` works in an image that has no other
// userland. Commands it does not know as builtins run as processes: the
// applets in /bin are links to this binary.
func sh(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	interactiveMode := len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-c"
	runnerIn := stdin
	if _, isFile := stdin.(*os.File); interactiveMode && !isFile {
		// The parser reads commands from stdin; a non-file reader would be
		// copied to commands by a goroutine racing the parser for input.
		runnerIn = nil
	}
	r, err := interp.New(interp.Interactive(true), interp.StdIO(runnerIn, stdout, stderr), interp.CallHandler(externalKill))
	if err != nil {
		return err
	}
	ctx := context.Background()
	switch {
	case len(args) >= 2 && args[0] == "-c":
		return runScript(ctx, r, strings.NewReader(args[1]), "sh -c")
	case len(args) >= 1 && !strings.HasPrefix(args[0], "-"):
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		return runScript(ctx, r, f, args[0])
	}
	return interactive(ctx, r, stdin, stdout, stderr)
}

// externalKill sends `kill` to our applet: the interpreter reserves the
// name as a builtin it does not implement.
func externalKill(ctx context.Context, args []string) ([]string, error) {
	if len(args) > 0 && args[0] == "kill" {
		args[0] = "/bin/kill"
	}
	return args, nil
}

func runScript(ctx context.Context, r *interp.Runner, src io.Reader, name string) error {
	prog, err := syntax.NewParser().Parse(src, name)
	if err != nil {
		return err
	}
	return exitErr(r.Run(ctx, prog))
}

func interactive(ctx context.Context, r *interp.Runner, stdin io.Reader, stdout, stderr io.Writer) error {
	host, _ := os.Hostname()
	prompt := func() { fmt.Fprintf(stdout, "%s:%s$ ", host, r.Dir) }
	prompt()
	parser := syntax.NewParser()
	for stmts, err := range parser.InteractiveSeq(stdin) {
		if err != nil {
			fmt.Fprintln(stderr, "sh:", err)
			return err
		}
		if parser.Incomplete() {
			fmt.Fprint(stdout, "> ")
			continue
		}
		for _, stmt := range stmts {
			err := r.Run(ctx, stmt)
			if r.Exited() {
				return exitErr(err)
			}
			var status interp.ExitStatus
			if err != nil && !errors.As(err, &status) {
				fmt.Fprintln(stderr, "sh:", err)
			}
		}
		prompt()
	}
	return nil
}

// exitErr turns the interpreter's exit status into labapp's exit code.
func exitErr(err error) error {
	var status interp.ExitStatus
	if errors.As(err, &status) {
		os.Exit(int(status))
	}
	return err
}
