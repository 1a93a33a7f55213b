package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The coreutils the seeds' exercises type inside a container. Each is a
// subcommand of labapp and a link in /bin, so the shell runs them as real
// processes that `ps` shows and `kill` can reach.

func cat(args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 {
		_, err := io.Copy(out, stdin)
		return err
	}
	for _, a := range args {
		f, err := os.Open(a)
		if err != nil {
			return fmt.Errorf("cat: %w", err)
		}
		_, err = io.Copy(out, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func ls(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ls", flag.ContinueOnError)
	long := fs.Bool("l", false, "long listing")
	all := fs.Bool("a", false, "show dot files")
	if err := fs.Parse(expandShortFlags(args)); err != nil {
		return err
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	for i, p := range paths {
		st, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("ls: %w", err)
		}
		if !st.IsDir() {
			lsEntry(out, p, st, *long)
			continue
		}
		if len(paths) > 1 {
			if i > 0 {
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "%s:\n", p)
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return fmt.Errorf("ls: %w", err)
		}
		for _, e := range entries {
			if !*all && strings.HasPrefix(e.Name(), ".") {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue
			}
			lsEntry(out, e.Name(), info, *long)
		}
	}
	return nil
}

func lsEntry(out io.Writer, name string, st os.FileInfo, long bool) {
	if !long {
		fmt.Fprintln(out, name)
		return
	}
	fmt.Fprintf(out, "%s %8d %s %s\n", st.Mode(), st.Size(), st.ModTime().Format("Jan _2 15:04:05 2006"), name)
}

// expandShortFlags turns "-la" into "-l -a", as ls users type it.
func expandShortFlags(args []string) []string {
	var out []string
	for _, a := range args {
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			for _, c := range a[1:] {
				out = append(out, "-"+string(c))
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// ps lists processes from /proc, busybox style.
func ps(out io.Writer, proc string) error {
	dirs, err := os.ReadDir(proc)
	if err != nil {
		return fmt.Errorf("ps: %w", err)
	}
	var pids []int
	for _, d := range dirs {
		if pid, err := strconv.Atoi(d.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	fmt.Fprintf(out, "%5s %5s %-4s %s\n", "PID", "PPID", "STAT", "COMMAND")
	for _, pid := range pids {
		stat, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
		if err != nil {
			continue
		}
		// stat is "pid (comm) state ppid ...": comm may hold spaces.
		s := string(stat)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		rest := strings.Fields(s[end+1:])
		if len(rest) < 2 {
			continue
		}
		cmd := "[" + s[open+1:end] + "]"
		if cl, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "cmdline")); err == nil && len(cl) > 0 {
			cmd = strings.TrimSpace(strings.ReplaceAll(string(cl), "\x00", " "))
		}
		fmt.Fprintf(out, "%5d %5s %-4s %s\n", pid, rest[1], rest[0], cmd)
	}
	return nil
}

func touch(args []string) error {
	now := time.Now()
	for _, a := range args {
		f, err := os.OpenFile(a, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("touch: %w", err)
		}
		f.Close()
		if err := os.Chtimes(a, now, now); err != nil {
			return fmt.Errorf("touch: %w", err)
		}
	}
	return nil
}

func rm(args []string) error {
	recursive, force := false, false
	var paths []string
	for _, a := range expandShortFlags(args) {
		switch a {
		case "-r", "-R":
			recursive = true
		case "-f":
			force = true
		default:
			paths = append(paths, a)
		}
	}
	for _, p := range paths {
		var err error
		if recursive {
			err = os.RemoveAll(p)
		} else {
			err = os.Remove(p)
		}
		if err != nil && !(force && os.IsNotExist(err)) {
			return fmt.Errorf("rm: %w", err)
		}
	}
	return nil
}

func mkdir(args []string) error {
	parents := false
	for _, a := range args {
		if a == "-p" {
			parents = true
			continue
		}
		var err error
		if parents {
			err = os.MkdirAll(a, 0o755)
		} else {
			err = os.Mkdir(a, 0o755)
		}
		if err != nil {
			return fmt.Errorf("mkdir: %w", err)
		}
	}
	return nil
}

func sleep(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: sleep SECONDS")
	}
	d, err := time.ParseDuration(args[0])
	if err != nil {
		secs, err2 := strconv.ParseFloat(args[0], 64)
		if err2 != nil {
			return fmt.Errorf("sleep: invalid time %q", args[0])
		}
		d = time.Duration(secs * float64(time.Second))
	}
	time.Sleep(d)
	return nil
}

// date prints the time, or with -r FILE the file's modification time (how
// the seeds show that nginx.pid was rewritten by a restart).
func date(args []string, out io.Writer) error {
	t := time.Now()
	if len(args) == 2 && args[0] == "-r" {
		st, err := os.Stat(args[1])
		if err != nil {
			return fmt.Errorf("date: %w", err)
		}
		t = st.ModTime()
	}
	fmt.Fprintln(out, t.Format(time.UnixDate))
	return nil
}

func env(out io.Writer) error {
	w := bufio.NewWriter(out)
	for _, kv := range os.Environ() {
		fmt.Fprintln(w, kv)
	}
	return w.Flush()
}

func hostname(out io.Writer) error {
	h, err := os.Hostname()
	if err != nil {
		return err
	}
	fmt.Fprintln(out, h)
	return nil
}

func echo(args []string, out io.Writer) error {
	nl := true
	if len(args) > 0 && args[0] == "-n" {
		nl, args = false, args[1:]
	}
	fmt.Fprint(out, strings.Join(args, " "))
	if nl {
		fmt.Fprintln(out)
	}
	return nil
}
