package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type server struct {
	version  string
	pod      string
	readyAt  time.Time
	latency  time.Duration
	down     atomic.Bool
	mu       sync.Mutex
	leaked   [][]byte
	draining atomic.Bool
	inFlight atomic.Int64
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", envOr("LABAPP_ADDR", ":8080"), "listen address")
	startup := fs.Duration("startup-delay", envDuration("LABAPP_STARTUP_DELAY", 0), "a slow boot: the port opens only after this long")
	shutdownDelay := fs.Duration("shutdown-delay", envDuration("LABAPP_SHUTDOWN_DELAY", 2*time.Second), "after SIGTERM, keep serving this long (readiness failing) while endpoints update")
	latency := fs.Duration("latency", envDuration("LABAPP_LATENCY", 0), "delay added to every request to /")
	drain := fs.Duration("drain", envDuration("LABAPP_DRAIN", 2*time.Second), "how long SIGTERM waits for in-flight requests")
	pidFile := fs.String("pid-file", envOr("LABAPP_PID_FILE", "/run/labapp.pid"), "where PID 1 records its pid, as nginx does")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _ := os.Hostname()
	s := &server{version: version(), pod: envOr("POD_NAME", host), latency: *latency}
	if envOr("LABAPP_BROKEN", "") != "" {
		// A bad release (labapp:v3): it runs, but never reports healthy or
		// ready, so a rollout to it stalls and `rollout undo` is the way out.
		s.down.Store(true)
	}
	if *pidFile != "" {
		// Not fatal: outside a container /run may be read-only.
		if err := os.WriteFile(*pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			log.Printf("cannot write pid file: %v", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *startup > 0 {
		// Like a JVM booting: nothing listens yet, so traffic sent here by a
		// Service without a readinessProbe is refused.
		log.Printf("labapp %s booting for %s", s.version, *startup)
		select {
		case <-time.After(*startup):
		case <-ctx.Done():
			return nil
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetOutput(os.Stdout) // a container logs to stdout: `kubectl logs` shows it
	log.Printf("labapp %s listening on %s (pid %d)", s.version, ln.Addr(), os.Getpid())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Graceful stop: fail readiness and keep serving while the endpoints
	// drop this pod, then stop accepting, finish in-flight requests, exit 0.
	s.draining.Store(true)
	log.Printf("SIGTERM: readiness failing; serving %s more, then draining for up to %s", *shutdownDelay, *drain)
	time.Sleep(*shutdownDelay)
	log.Printf("draining %d in-flight requests", s.inFlight.Load())
	sctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	log.Printf("stopped")
	return nil
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.root)
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc("/readyz", s.readyz)
	mux.HandleFunc("/down", s.setDown)
	mux.HandleFunc("/leak", s.leak)
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		log.Printf("/crash requested: exiting with status 3")
		os.Exit(3)
	})
	return s.logged(mux)
}

func (s *server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w, status: 200}
		rw.Header().Set("Server", "labapp/"+s.version)
		h.ServeHTTP(rw, r)
		log.Printf("%s %s %s %d %s", r.RemoteAddr, r.Method, r.URL.RequestURI(), rw.status, time.Since(start).Round(time.Microsecond))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *server) root(w http.ResponseWriter, r *http.Request) {
	if s.latency > 0 {
		time.Sleep(s.latency)
	}
	fmt.Fprintf(w, "labapp %s on %s\n", s.version, s.pod)
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.down.Load() {
		http.Error(w, "down: PUT /down was called", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.draining.Load():
		http.Error(w, "draining", http.StatusServiceUnavailable)
	case s.down.Load():
		http.Error(w, "down", http.StatusServiceUnavailable)
	default:
		fmt.Fprintln(w, "ready")
	}
}

func (s *server) setDown(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		http.Error(w, "use PUT", http.StatusMethodNotAllowed)
		return
	}
	s.down.Store(true)
	log.Printf("marked down: /healthz fails from now on")
	fmt.Fprintln(w, "down")
}

func (s *server) leak(w http.ResponseWriter, r *http.Request) {
	mb, err := strconv.Atoi(r.URL.Query().Get("mb"))
	if err != nil || mb <= 0 {
		http.Error(w, "want /leak?mb=N with N > 0", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.leaked = append(s.leaked, allocTouched(mb))
	total := 0
	for _, b := range s.leaked {
		total += len(b)
	}
	s.mu.Unlock()
	fmt.Fprintf(w, "holding %d MiB\n", total>>20)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if v := os.Getenv(key); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}
