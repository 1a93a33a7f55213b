package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// hog allocates memory at a steady rate up to a size, touching every page so
// the kernel charges it to the container's cgroup, and burns CPU on demand
// (for the CPU-shares exercise).
func hog(args []string) error {
	fs := flag.NewFlagSet("hog", flag.ContinueOnError)
	mb := fs.Int("mb", 256, "MiB to allocate in total (0: none)")
	cpu := fs.String("cpu", "0", "busy threads to run (CPU burn): a count, or Nx for N per CPU of the machine")
	step := fs.Int("step", 8, "MiB per allocation")
	every := fs.Duration("every", 100*time.Millisecond, "pause between allocations")
	hold := fs.Duration("hold", time.Hour, "how long to hold the memory once allocated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cpus, err := burnThreads(*cpu, runtime.NumCPU())
	if err != nil {
		return err
	}
	// Go runs at most GOMAXPROCS goroutines at once (the CPUs here): each
	// busy goroutine gets a thread of its own, so the kernel sees cpus
	// runnable threads. With only one or two per pod, where the scheduler
	// happens to place them decides the share more than the CPU weights do
	// (measured: heavy/light 1.8-3.8 under host load, weights say 4).
	if cpus > runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(cpus)
	}
	for i := 0; i < cpus; i++ {
		go burn()
	}
	if cpus > 0 {
		log.Printf("hog: %d busy threads", cpus)
	}
	var held [][]byte
	for total := 0; total < *mb; total += *step {
		held = append(held, allocTouched(*step))
		log.Printf("hog: holding %d MiB", total+*step)
		time.Sleep(*every)
	}
	time.Sleep(*hold)
	_ = held
	return nil
}

// burnThreads reads --cpu: a count, or "Nx", N per CPU of the machine
// (ncpu).
func burnThreads(v string, ncpu int) (int, error) {
	per, perCPU := strings.CutSuffix(v, "x")
	n, err := strconv.Atoi(per)
	if err != nil || n < 0 || n > 1024 {
		return 0, fmt.Errorf("hog: --cpu %q: want a count from 0 to 1024, or Nx for N busy threads per CPU (2x)", v)
	}
	if perCPU {
		n *= ncpu
	}
	return n, nil
}

func burn() {
	x := uint64(1)
	for {
		x = x*6364136223846793005 + 1442695040888963407
		if x == 0 {
			log.Print("unreachable")
		}
	}
}

func allocTouched(mb int) []byte {
	b := make([]byte, mb<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

// kill is the busybox-style applet: kill [-SIGNAL] PID...
func kill(args []string) error {
	sig := syscall.SIGTERM
	if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		s, err := parseSignal(strings.TrimPrefix(args[0], "-"))
		if err != nil {
			return err
		}
		sig, args = s, args[1:]
	}
	if len(args) == 0 {
		return fmt.Errorf("usage: kill [-SIGNAL] PID")
	}
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil {
			return fmt.Errorf("kill: %q is not a pid", a)
		}
		if err := syscall.Kill(pid, sig); err != nil {
			return fmt.Errorf("kill %d: %w", pid, err)
		}
	}
	return nil
}

func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return syscall.Signal(n), nil
	}
	switch strings.TrimPrefix(strings.ToUpper(s), "SIG") {
	case "TERM":
		return syscall.SIGTERM, nil
	case "KILL":
		return syscall.SIGKILL, nil
	case "INT":
		return syscall.SIGINT, nil
	case "HUP":
		return syscall.SIGHUP, nil
	}
	return 0, fmt.Errorf("kill: unknown signal %q", s)
}

// curl is a small subset: curl [-s] [-I] [-X METHOD] URL
func curl(args []string, out io.Writer) error {
	method, headOnly := http.MethodGet, false
	var url string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "-s", "--silent":
		case "-I", "--head":
			headOnly, method = true, http.MethodHead
		case "-X", "--request":
			if i+1 >= len(args) {
				return fmt.Errorf("curl: -X needs a method")
			}
			i++
			method = strings.ToUpper(args[i])
		default:
			url = a
		}
	}
	if url == "" {
		return fmt.Errorf("usage: curl [-s] [-I] [-X METHOD] URL")
	}
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if headOnly {
		fmt.Fprintf(out, "%s %s\r\n", resp.Proto, resp.Status)
		return resp.Header.Write(out)
	}
	_, err = io.Copy(out, resp.Body)
	return err
}
