package class

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/runner"
	"github.com/labs-dev/labs/runner/class"
	"github.com/labs-dev/labs/runner/classview"
	"github.com/labs-dev/labs/runner/images"
)

// watch starts the shared-cluster watcher of a class and returns its
// board once every learner has been read and judged once.
func watch(ctx context.Context, f *cmdutil.Factory, kubeconfig, name string, judged func(int, time.Duration)) (*classview.Board, error) {
	if err := class.ValidateClass(name); err != nil {
		return nil, err
	}
	c, cfg, err := f.AdminClient(kubeconfig)
	if err != nil {
		return nil, err
	}
	reg, err := class.Images(ctx, c, name)
	if err != nil {
		return nil, err
	}
	var rewrite func([]byte) []byte
	if reg != "" {
		rewrite = images.Registry{Ref: reg}.Rewrite // the labs as the learners read them
	}
	cat, err := f.LabCatalog(rewrite)
	if err != nil {
		return nil, err
	}
	dyn, mapper, err := runner.DynamicFor(cfg)
	if err != nil {
		return nil, err
	}
	// The watcher's informers watch for as long as the server runs: no
	// overall timeout (the admin client's 30 s would cut every watch).
	wcfg := rest.CopyConfig(cfg)
	wcfg.Timeout = 0
	wc, err := kubernetes.NewForConfig(wcfg)
	if err != nil {
		return nil, err
	}
	board := classview.NewBoard(name, class.BoardLabs(cat))
	w := &class.Watcher{
		Client: wc, Dynamic: dyn, Mapper: mapper,
		Class: name, Board: board, Labs: cat.Find, Judged: judged,
	}
	ready := make(chan struct{})
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx, ready) }()
	select {
	case <-ready:
		return board, nil
	case err := <-errc:
		if err == nil {
			err = ctx.Err()
		}
		return nil, err
	}
}

func newServe(f *cmdutil.Factory, kubeconfig *string) *cobra.Command {
	var name, listen string
	var laptops, codeOnly bool
	var judgeLog, free string
	cmd := &cobra.Command{
		Use:   "serve --class NAME [--listen ADDR] [--laptops]",
		Short: "A live page of the class: every learner's step, since when, who is stuck",
		Long: `Serve the instructor's view of a class: a page that updates live with each
learner's current step and time on it, the last failing check's
expected/found, hints and solves used, who is stuck, and how many learners are
on or past each step.

On a shared cluster (the class of 'labs class up'), the server judges each
learner's current step itself, with the same checks their labs runs:
progress a learner's ConfigMap claims but the server did not see happen is
not shown.

With --laptops, every learner runs labs on their own machine: the server
prints a join code, learners run 'labs join CODE --name NAME', and their labs
sends its events here over TLS pinned to this server's certificate (the
code carries its fingerprint). --listen must then be an address of this
machine the learners reach (for example 192.168.1.5:8443).

The page needs the instructor's token: open the address printed (the token
is kept under labs' config folder, so a restart keeps the same address, and
the events learners sent are kept too). Nothing listens beyond --listen.`,
		Example: "  labs class serve --class k8s101\n  labs class serve --class room12 --laptops --listen 192.168.1.5:8443",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			token, err := serveToken(f, name)
			if err != nil {
				return err
			}
			if (codeOnly || free != "") && !laptops {
				return fmt.Errorf("--print-code and --free go with --laptops (a shared cluster's learners join with their kubeconfig files)")
			}
			if free != "" {
				l, err := openLaptops(f, name, false)
				if err != nil {
					return err
				}
				defer l.Close()
				n, err := l.Free(free)
				if err != nil {
					return err
				}
				fmt.Fprintf(f.Streams.ErrOut, "%s freed (%d token(s) forgotten): they can join again; restart a running server for it to see this\n", free, n)
				return nil
			}
			lang, _ := f.Lang()
			s := &classview.Server{Token: token, Lang: lang}
			if codeOnly {
				// The same secret and certificate as the server's: the line
				// to show again, without starting another server.
				l, err := openLaptops(f, name, false)
				if err != nil {
					return err
				}
				defer l.Close()
				host, _, err := net.SplitHostPort(listen)
				if err != nil {
					return fmt.Errorf("--listen %q: %w", listen, err)
				}
				_, fp, err := l.Certificate([]string{host, "localhost"})
				if err != nil {
					return err
				}
				fmt.Fprintf(f.Streams.Out, "labs join %s --name NAME\n", l.Code(listen, fp))
				return nil
			}
			if host, _, err := net.SplitHostPort(listen); err != nil || host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
				return fmt.Errorf("--listen %q: give one address of this machine and a port (127.0.0.1:8088, or its address on the room's network): the page answers there only", listen)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listening on %s: %w (another labs class serve? pick another --listen)", listen, err)
			}
			defer ln.Close()
			addr := ln.Addr().String()
			s.Hosts = classview.HostsFor(addr)
			scheme := "http"
			var code classview.JoinCode
			if laptops {
				l, err := openLaptops(f, name, true)
				if err != nil {
					return err
				}
				defer l.Close()
				s.Board = l.Board
				host, _, _ := net.SplitHostPort(addr)
				cert, fp, err := l.Certificate([]string{host, "localhost"})
				if err != nil {
					return fmt.Errorf("making the server's certificate: %w", err)
				}
				s.Laptops, scheme, code = l, "https", l.Code(addr, fp)
				ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
				if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
					fmt.Fprintf(f.Streams.ErrOut, "note: %s is not an address other machines reach; give --listen this machine's address on the room's network\n", addr)
				}
			} else {
				fmt.Fprintf(f.Streams.ErrOut, "reading class %s and judging every learner's step...\n", name)
				var judged func(int, time.Duration)
				if judgeLog != "" { // benchmarks: how long each re-judging took
					lf, err := os.OpenFile(judgeLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
					if err != nil {
						return err
					}
					defer lf.Close()
					judged = func(n int, took time.Duration) { fmt.Fprintf(lf, "%d %.3f\n", n, took.Seconds()*1000) }
				}
				if s.Board, err = watch(ctx, f, *kubeconfig, name, judged); err != nil {
					return err
				}
			}
			h, err := s.Handler()
			if err != nil {
				return err
			}
			// No ReadTimeout: the page's stream lasts; idle connections and
			// slow headers are cut (the learners' posts set their own).
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
			go func() {
				<-ctx.Done()
				sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer scancel()
				_ = srv.Shutdown(sctx)
			}()
			fmt.Fprintf(f.Streams.Out, "%s://%s/?token=%s\n", scheme, addr, token)
			if laptops {
				fmt.Fprintf(f.Streams.Out, "labs join %s --name NAME\n", code)
				fmt.Fprintf(f.Streams.ErrOut, "class %s: show the learners the join line above (NAME: their name); open the first address yourself (your browser warns once: the certificate is this server's own, fingerprint %s)\n", name, code.Fingerprint[:16])
			} else {
				fmt.Fprintf(f.Streams.ErrOut, "class %s: %d learners; open the address above (Ctrl-C stops)\n", name, len(s.Board.View().Learners))
			}
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "class", "", "the class")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8088", "the address to serve on")
	cmd.Flags().BoolVar(&laptops, "laptops", false, "learners run labs on their own machines and send their events here")
	cmd.Flags().BoolVar(&codeOnly, "print-code", false, "with --laptops: print the learners' join line for --listen and exit")
	cmd.Flags().StringVar(&free, "free", "", "with --laptops: forget learner NAME's tokens, so they can join again (a new machine)")
	cmd.Flags().StringVar(&judgeLog, "judge-log", "", "append each re-judging's learner count and milliseconds to FILE (benchmarks)")
	_ = cmd.Flags().MarkHidden("judge-log")
	_ = cmd.MarkFlagRequired("class")
	return cmd
}

// serveToken is the class page's token, made once and kept (0600) so a
// restarted server keeps the address the instructor opened.
func serveToken(f *cmdutil.Factory, name string) (string, error) {
	dir, err := serveDir(f, name)
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, name+".token")
	if b, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw[:])
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(file, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keeping the page's token: %w", err)
	}
	return tok, nil
}

// boardOf is the class's board once: judged on the shared cluster, or,
// with laptops, the events the laptop-mode server kept.
func boardOf(ctx context.Context, f *cmdutil.Factory, kubeconfig, name string, laptops bool) (*classview.Board, error) {
	if !laptops {
		return watch(ctx, f, kubeconfig, name, nil)
	}
	dir, err := serveDir(f, name)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, name+".secret")); err != nil {
		return nil, fmt.Errorf("no laptop class %s on this machine (`labs class serve --class %s --laptops` makes one)", name, name)
	}
	l, err := openLaptops(f, name, true)
	if err != nil {
		return nil, err
	}
	return l.Board, l.Close()
}

// serveDir is where `labs class serve` keeps a class's files: its token,
// and in laptop mode its secret, certificate, learners' tokens and events.
func serveDir(f *cmdutil.Factory, name string) (string, error) {
	if err := class.ValidateClass(name); err != nil {
		return "", err
	}
	paths, err := f.Paths()
	if err != nil {
		return "", err
	}
	return filepath.Join(paths.ConfigDir, "class-serve"), nil
}

// openLaptops opens laptop class name's files onto a new board, which
// knows the labs' steps when withLabs (a view; not to free a name or
// print the code).
func openLaptops(f *cmdutil.Factory, name string, withLabs bool) (*classview.Laptops, error) {
	dir, err := serveDir(f, name)
	if err != nil {
		return nil, err
	}
	var labs []classview.Lab
	if withLabs {
		cat, err := f.LabCatalog(nil)
		if err != nil {
			return nil, err
		}
		labs = class.BoardLabs(cat)
	}
	l := &classview.Laptops{Board: classview.NewBoard(name, labs), Dir: dir, Class: name}
	if err := l.Open(); err != nil {
		return nil, err
	}
	return l, nil
}

func newStatus(f *cmdutil.Factory, kubeconfig *string) *cobra.Command {
	var name string
	var laptops bool
	cmd := &cobra.Command{
		Use:   "status --class NAME",
		Short: "Where each learner is, as the server judges it now (the page's data, once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.ValidateOutput(); err != nil {
				return err
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			board, err := boardOf(ctx, f, *kubeconfig, name, laptops)
			if err != nil {
				return err
			}
			v := board.View()
			if f.JSON() {
				return runner.WriteJSON(f.Streams.Out, v)
			}
			t := content.NewTable("LEARNER", "LAB", "STEP", "CLAIMS", "ON STEP", "HINTS", "SOLVES", "VERDICT", "STUCK")
			for _, r := range v.Learners {
				step, claims := "-", "-"
				if r.Lab != "" {
					step = fmt.Sprintf("%d/%d", r.Step, r.Steps)
					if r.Finished {
						step = "done"
					}
					if r.Claimed > r.Step {
						claims = fmt.Sprint(r.Claimed)
					}
				}
				t.Row(r.Learner, cmp(r.Lab), step, claims, time.Duration(r.OnStep).Round(time.Second).String(), fmt.Sprint(r.Hints), fmt.Sprint(r.Solves), cmp(r.Verdict), cmp(r.StuckWhy))
			}
			return t.Write(f.Streams.Out)
		},
	}
	cmd.Flags().StringVar(&name, "class", "", "the class")
	cmd.Flags().BoolVar(&laptops, "laptops", false, "a class whose learners run labs on their own machines (the events this machine's server kept)")
	_ = cmd.MarkFlagRequired("class")
	return cmd
}

func cmp(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newExport(f *cmdutil.Factory, kubeconfig *string) *cobra.Command {
	var name string
	var csv, laptops bool
	cmd := &cobra.Command{
		Use:   "export --class NAME --csv",
		Short: "Every learner's place, help used and the server's verdict, as CSV (a grade book)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !csv {
				return fmt.Errorf("say the format: --csv (JSON is `labs class status -o json`)")
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			board, err := boardOf(ctx, f, *kubeconfig, name, laptops)
			if err != nil {
				return err
			}
			return classview.WriteCSV(f.Streams.Out, board.View())
		},
	}
	cmd.Flags().StringVar(&name, "class", "", "the class")
	cmd.Flags().BoolVar(&csv, "csv", false, "write CSV")
	cmd.Flags().BoolVar(&laptops, "laptops", false, "a class whose learners run labs on their own machines (the events this machine's server kept)")
	_ = cmd.MarkFlagRequired("class")
	return cmd
}
