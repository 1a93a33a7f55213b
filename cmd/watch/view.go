package watch

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/labs-dev/labs/content"

	"github.com/labs-dev/labs/assets/labapp/loadreport"
	"github.com/labs-dev/labs/runner"
)

// screen is what labs watch shows: the runner's messages folded into a
// state, and a pure function of that state and the terminal's size that
// draws it (golden-tested at 80×24 and 120×40).
type screen struct {
	width, height int
	step          runner.WatchStep
	checks        []runner.CheckOutcome
	done          *runner.WatchDone
	events        []runner.EventLine
	status        runner.WatchStatus
	hint          string
	confirmSolve  bool
	color         bool
	lang          string // the learner's language, for the screen's own words
	// load is the newest load's last minute of reports; loadDone once it
	// ended (its panel stays, marked finished).
	loadPod  string
	load     []loadreport.Progress
	loadDone bool
}

// maxEvents is how many events the screen keeps (it shows the newest that fit).
const maxEvents = 50

// apply folds one runner message into the screen.
func (s *screen) apply(msg any) {
	switch m := msg.(type) {
	case runner.WatchStep:
		if m.Lab != s.step.Lab || m.Step != s.step.Step {
			s.checks, s.hint = nil, ""
		}
		s.step, s.done = m, nil
	case runner.WatchChecks:
		if m.Step == s.step.Step {
			s.checks = m.Checks
		}
	case runner.WatchDone:
		s.done = &m
	case runner.EventLine:
		s.events = append(s.events, m)
		if len(s.events) > maxEvents {
			s.events = s.events[len(s.events)-maxEvents:]
		}
	case runner.WatchStatus:
		s.status = m
	case runner.WatchHint:
		s.hint = m.Text
	case runner.WatchLoad:
		if m.Pod != s.loadPod {
			if m.Done {
				return // an older load ending
			}
			s.loadPod, s.load, s.loadDone = m.Pod, nil, false
		}
		if m.Done {
			s.loadDone = true
			return
		}
		s.load = append(s.load, m.Progress)
		if len(s.load) > 60 {
			s.load = s.load[len(s.load)-60:]
		}
	}
}

func (s *screen) style(st lipgloss.Style, text string) string {
	if !s.color {
		return text
	}
	return st.Render(text)
}

var (
	bold  = lipgloss.NewStyle().Bold(true)
	faint = lipgloss.NewStyle().Faint(true)
	green = lipgloss.NewStyle().Foreground(lipgloss.Green)
	red   = lipgloss.NewStyle().Foreground(lipgloss.Red)
	amber = lipgloss.NewStyle().Foreground(lipgloss.Yellow)
)

// tr is the screen's own words in the learner's language.
func (s *screen) tr(format string) string { return content.Tr(s.lang, format) }

// fit cuts a line to the screen's width, in terminal columns.
func (s *screen) fit(line string) string {
	return content.Truncate(line, s.width)
}

// rule is a separator with a title: "── Checks ─────".
func (s *screen) rule(title string) string {
	line := "── " + title + " "
	if w := content.Width(line); w < s.width {
		line += strings.Repeat("─", s.width-w)
	}
	return s.style(faint, s.fit(line))
}

// q comes first: on a narrow screen the line is cut from the right, and
// how to leave must stay visible.
const helpLine = "q quit · h hint · s solve · n next · p prev · r re-check"

// view draws the screen. Rows go first to the header, the checklist, the
// status and the help line; then to events, the hint and the step's text,
// so a small terminal (40×10) still shows what matters.
func (s *screen) view() string {
	if s.width <= 0 || s.height <= 0 {
		return ""
	}
	if s.step.Lab == "" {
		return s.fit(s.tr("labs watch: connecting to the lab cluster…"))
	}
	header := s.style(bold, s.fit(fmt.Sprintf(s.tr("labs watch · %s · step %d/%d: %s"), s.step.LabTitle, s.step.Step, s.step.Steps, s.step.Title)))
	var checkLines []string
	for _, c := range s.checks {
		switch {
		case c.Passed:
			checkLines = append(checkLines, s.style(green, s.fit("✓ "+c.Expected)))
		case c.Error != "":
			checkLines = append(checkLines, s.style(red, s.fit(fmt.Sprintf(s.tr("✗ %s — could not check: %s"), c.Expected, c.Error))))
		default:
			// What was found is what the learner acts on: its own line.
			checkLines = append(checkLines, s.style(red, s.fit("✗ "+c.Expected)), s.fit(fmt.Sprintf(s.tr("    found %s"), c.Found)))
		}
	}
	if len(s.checks) == 0 {
		checkLines = append(checkLines, s.style(faint, s.fit(s.tr("… reading the cluster"))))
	}
	if s.done != nil {
		msg := fmt.Sprintf(s.tr("✓ Step %d done: the next step follows"), s.done.Step)
		if s.done.Complete {
			msg = fmt.Sprintf(s.tr("✓ You finished %s: all %d steps done. q quits."), s.step.LabTitle, s.step.Steps)
		}
		checkLines = append(checkLines, s.style(green.Bold(true), s.fit(msg)))
	}
	help := s.style(faint, s.fit(s.tr(helpLine)))
	if s.confirmSolve {
		help = s.style(amber, s.fit(s.tr("Run the reference solution of this step? y runs it, any other key does not")))
	}
	var status []string
	if s.status.Text != "" {
		st := faint
		if s.status.Problem {
			st = amber
		}
		status = []string{s.style(st, s.fit(s.status.Text))}
	}

	rows := s.height
	take := func(lines []string, n int) []string {
		n = max(0, min(n, len(lines), rows))
		rows -= n
		return lines[:n]
	}
	top := take([]string{header}, 1)
	bottom := take([]string{help}, 1)
	status = take(status, 1)
	checksRule := take([]string{s.rule(s.tr("Checks"))}, 1)
	checkLines = take(checkLines, len(checkLines))
	var loadLines []string
	if len(s.load) > 0 && rows >= 3 {
		title := fmt.Sprintf(s.tr("Load · %s"), s.loadPod)
		if s.loadDone {
			title += s.tr(" (finished)")
		}
		loadLines = []string{s.rule(title)}
		for _, l := range runner.RenderLoadPanel("", s.load)[1:] {
			loadLines = append(loadLines, s.fit(l))
		}
		loadLines = take(loadLines, len(loadLines))
	}
	var eventLines []string
	for _, e := range s.events {
		l := s.fit(e.String(false))
		if e.Warning() {
			l = s.style(amber, l)
		}
		eventLines = append(eventLines, l)
	}
	if len(eventLines) == 0 {
		eventLines = []string{s.style(faint, s.fit(s.tr("no events yet")))}
	}
	var eventsRule []string
	allEvents := eventLines
	if rows >= 3 {
		eventsRule = take([]string{s.rule(fmt.Sprintf(s.tr("Events · namespace %s"), s.step.Namespace))}, 1)
		n := min(len(eventLines), max(2, s.height/5), rows-1)
		eventLines = eventLines[len(eventLines)-max(0, n):] // the newest
		rows -= len(eventLines)
	} else {
		eventLines = nil
	}
	var hintLines []string
	if s.hint != "" && rows >= 2 {
		hintLines = append([]string{s.rule(s.tr("Hint"))}, s.wrap(s.hint)...)
		hintLines = take(hintLines, max(2, s.height/4))
	}
	var text []string
	if rows > 0 {
		text = strings.Split(s.step.Render(s.width), "\n")
		if len(text) > rows {
			text = append(text[:rows-1], s.style(faint, s.tr("… (the step's full text: labs show)")))
		}
		for i := range text {
			text[i] = s.fit(text[i])
		}
		rows -= len(text)
	}
	if len(eventsRule) > 0 && rows > 0 && len(allEvents) > len(eventLines) {
		n := min(rows, len(allEvents)-len(eventLines)) // rows to spare: older events
		eventLines = allEvents[len(allEvents)-len(eventLines)-n:]
		rows -= n
	}
	var out []string
	out = append(out, top...)
	out = append(out, text...)
	out = append(out, hintLines...)
	out = append(out, checksRule...)
	out = append(out, checkLines...)
	out = append(out, loadLines...)
	out = append(out, eventsRule...)
	out = append(out, eventLines...)
	for ; rows > 0; rows-- { // the help line sits at the bottom
		out = append(out, "")
	}
	out = append(out, status...)
	out = append(out, bottom...)
	return strings.Join(out, "\n")
}

// wrap breaks text into lines of the screen's width.
func (s *screen) wrap(text string) []string {
	var out []string
	for _, para := range strings.Split(strings.TrimSpace(text), "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			if line != "" && content.Width(line+" "+w) > s.width {
				out = append(out, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		out = append(out, s.fit(line))
	}
	return out
}
