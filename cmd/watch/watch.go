// Package watch is `labs watch`: the current step's checks re-judged as the
// cluster changes, the namespace's events, and the next step when all pass.
package watch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/labs-dev/labs/assets/labapp/loadreport"
	"github.com/labs-dev/labs/cmd/cmdutil"
	"github.com/labs-dev/labs/content"
	"github.com/labs-dev/labs/runner"
)

// NewCommand returns `labs watch`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	var plain bool
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Follow the current step live: checks turn green as the cluster changes",
		Long: `A full-screen view of the current step: its text, its checks as a live
checklist re-judged on every change in the cluster (the same checks as
labs check), and the namespace's events as they happen, Warnings
highlighted. When every check passes, the step is recorded as labs check
records it and the next one follows. Keep working in another terminal.

Keys: h hint, s solve (asks first), n/p next/previous step, r re-check now
(also measures what only labs check measures, such as a load), q quit.

On a pipe or a dumb terminal (or with --plain) it prints one line per
change instead. labs watch changes the cluster only when asked (s).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.Runner()
			if err != nil {
				return err
			}
			// A watch idles for hours beside the learner's work: the heap
			// is collected earlier than Go's default (GOGC=100) to hold
			// about half the memory, at a CPU cost too small to see
			// (make bench-watch). GOGC set by the user wins.
			if f.Getenv("GOGC") == "" {
				debug.SetGCPercent(watchGCPercent)
			}
			tty := cmdutil.IsTerminal(f.Streams.Out) && cmdutil.IsTerminal(f.Streams.In) && f.Getenv("TERM") != "dumb"
			if plain || !tty {
				return runPlain(cmd.Context(), r, f.Streams.Out)
			}
			return runTUI(cmd.Context(), r, f)
		},
	}
	cmd.Flags().BoolVar(&plain, "plain", false, "one line per change, no full screen")
	return cmd
}

// watchGCPercent is labs watch's GOGC.
const watchGCPercent = 25

// runPlain prints one line per change: the step, each check whose verdict
// or finding changed, each event, each status.
func runPlain(ctx context.Context, r *runner.Runner, out io.Writer) error {
	r.Out = io.Discard // what solve and moves print: the lines below say it
	p := &plainPrinter{w: out, last: map[int]string{}, lang: r.Lang()}
	err := r.Watch(ctx, p.print, nil)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

type plainPrinter struct {
	w    io.Writer
	step string
	last map[int]string // check index -> its last line
	lang string
}

func (p *plainPrinter) tr(format string) string { return content.Tr(p.lang, format) }

func (p *plainPrinter) print(msg any) {
	switch m := msg.(type) {
	case runner.WatchStep:
		key := fmt.Sprintf("%s/%d", m.Lab, m.Step)
		if key != p.step {
			p.step, p.last = key, map[int]string{}
			fmt.Fprintf(p.w, p.tr("step %d/%d: %s (%s)")+"\n", m.Step, m.Steps, m.Title, m.Lab)
		}
	case runner.WatchChecks:
		for i, c := range m.Checks {
			line := "  ✓ " + c.Expected
			switch {
			case c.Error != "":
				line = fmt.Sprintf(p.tr("  ✗ %s; could not check: %s"), c.Expected, c.Error)
			case !c.Passed:
				line = fmt.Sprintf(p.tr("  ✗ %s; found %s"), c.Expected, c.Found)
			}
			if p.last[i] != line {
				p.last[i] = line
				fmt.Fprintln(p.w, line)
			}
		}
	case runner.WatchDone:
		if m.Complete {
			fmt.Fprintf(p.w, p.tr("✓ step %d done: the lab is complete")+"\n", m.Step)
		} else {
			fmt.Fprintf(p.w, p.tr("✓ step %d done")+"\n", m.Step)
		}
	case runner.EventLine:
		fmt.Fprintln(p.w, "  event "+m.String(false))
	case runner.WatchStatus:
		fmt.Fprintln(p.w, "labs: "+m.Text)
	case runner.WatchHint:
		fmt.Fprintln(p.w, p.tr("hint: ")+m.Text)
	case runner.WatchLoad:
		if m.Done {
			fmt.Fprintf(p.w, "  load %s finished\n", m.Pod)
			return
		}
		l := runner.RenderLoadPanel(m.Pod, []loadreport.Progress{m.Progress})
		fmt.Fprintln(p.w, "  load "+strings.Join(strings.Fields(strings.Join(l[1:4], " ")), " "))
	}
}

// model is the full-screen view: a screen fed by the runner's messages
// and the learner's keys.
type model struct {
	screen
	actions chan<- runner.WatchAction
}

func (m model) Init() tea.Cmd { return nil }

func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		key := msg.String()
		if m.confirmSolve {
			m.confirmSolve = false
			if key == "y" {
				m.act(runner.ActSolve)
			}
			return m, nil
		}
		switch key {
		case "q", "ctrl+c", "esc":
			return m, tea.Quit
		case "h":
			m.act(runner.ActHint)
		case "s":
			m.confirmSolve = true
		case "n":
			m.act(runner.ActNext)
		case "p":
			m.act(runner.ActPrev)
		case "r":
			m.act(runner.ActRecheck)
		}
	case watchEnded:
		return m, tea.Quit
	default:
		m.apply(msg)
	}
	return m, nil
}

// act asks the runner without ever blocking the screen: a key pressed
// while the runner is busy with the previous one is dropped.
func (m model) act(a runner.WatchAction) {
	select {
	case m.actions <- a:
	default:
	}
}

func (m model) View() tea.View {
	v := tea.NewView(m.view())
	v.AltScreen = true
	v.WindowTitle = "labs watch"
	return v
}

// watchEnded: the runner's watch returned (no lab started, say).
type watchEnded struct{ err error }

// runTUI runs the full screen until q or Ctrl-C; the terminal is restored
// either way (bubbletea restores it on quit, on a signal and on a panic).
func runTUI(parent context.Context, r *runner.Runner, f *cmdutil.Factory) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	actions := make(chan runner.WatchAction, 1)
	m := model{screen: screen{color: cmdutil.ColorWanted(f.Getenv), lang: r.Lang()}, actions: actions}
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(f.Streams.In), tea.WithOutput(f.Streams.Out))
	// What the runner would print (solve, moves, progress lines) would tear
	// the screen: its lines become the status line instead.
	sink := &lineSink{send: func(s string) { p.Send(runner.WatchStatus{Text: s}) }}
	r.Out, r.ErrOut = io.Discard, sink
	r.Display = runner.NewDisplay(sink, content.Style{}, false)
	errc := make(chan error, 1)
	go func() {
		err := r.Watch(ctx, func(m any) { p.Send(m) }, actions)
		errc <- err
		p.Send(watchEnded{err})
	}()
	_, err := p.Run()
	cancel() // q or Ctrl-C: the runner's watch ends too
	// The watch failing (no lab started) is the learner's error to see;
	// the screen quitting by a key or a signal is not.
	if werr := <-errc; werr != nil && parent.Err() == nil && !errors.Is(werr, context.Canceled) {
		return werr
	}
	if err != nil && parent.Err() == nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// lineSink turns written text into one call per non-empty line.
type lineSink struct{ send func(string) }

func (s *lineSink) Write(b []byte) (int, error) {
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			s.send(l)
		}
	}
	return len(b), nil
}
