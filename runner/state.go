package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/labs-dev/labs/checks"
	"github.com/labs-dev/labs/content"
)

// Progress is a learner's place in one lab, kept in a small JSON file.
type Progress struct {
	Lab  string `json:"lab"`
	Step int    `json:"step"` // 0-based current step
	Done []bool `json:"done"`
	// Passed lists, for the current step, the checks that have passed: a
	// passed check stays passed.
	Passed []int `json:"passed,omitempty"`
	// Baseline is the namespace when the current step started.
	Baseline *checks.Baseline `json:"baseline,omitempty"`
	// Entered is when the current step became current: a check that began
	// before a move (next, goto, reset in another terminal) must not change
	// the step it was not judging.
	Entered time.Time `json:"entered,omitzero"`
	Updated time.Time `json:"updated"`
	// Captured are the values the checks of passed steps captured
	// (`capture:`), which later steps name as ${NAME}.
	Captured map[string]string `json:"captured,omitempty"`
	// Answer is the learner's answer in the current step (`labs answer`).
	Answer string `json:"answer,omitempty"`
	// History is what the learner did, oldest first and bounded: steps
	// entered and done, hints, solves, failed checks with what was
	// expected and found. An instructor reads it (a class's progress
	// lives on the cluster).
	History []Record `json:"history,omitempty"`
}

// Record is one entry of a learner's history.
type Record struct {
	At   time.Time `json:"at"`
	Step int       `json:"step"` // 1-based
	// What is enter, done, hint, solve, answer or fail.
	What string `json:"what"`
	// Detail is the failing checks' expected/found, or the answer.
	Detail string `json:"detail,omitempty"`
}

// historyMax and detailMax bound History: a ConfigMap holds at most 1 MiB
// (every lab's progress in one), so 200 records of 512 bytes at most.
const (
	historyMax = 200
	detailMax  = 512
)

// note appends a record for the current step, dropping the oldest past
// historyMax.
func (p *Progress) note(what, detail string) {
	if len(detail) > detailMax {
		detail = detail[:detailMax] + "..."
	}
	p.History = append(p.History, Record{At: time.Now().UTC(), Step: p.Step + 1, What: what, Detail: detail})
	if n := len(p.History) - historyMax; n > 0 {
		p.History = append([]Record(nil), p.History[n:]...)
	}
}

// enter makes step i current, from its start: nothing passed, no answer,
// the namespace as b recorded it.
func (p *Progress) enter(i int, b *checks.Baseline) {
	p.Step, p.Passed, p.Baseline, p.Entered, p.Answer = i, nil, b, time.Now().UTC(), ""
	p.note("enter", "")
}

// DoneCount is how many steps are done.
func (p *Progress) DoneCount() int {
	n := 0
	for _, d := range p.Done {
		if d {
			n++
		}
	}
	return n
}

// fit makes progress consistent with the lab as it is now: a file written
// by an older labs (fewer steps), edited by hand or damaged must never make
// a command index out of range.
func (p *Progress) fit(lab *content.Lab) {
	n := len(lab.Steps)
	p.Lab = lab.ID
	switch {
	case p.Step < 0:
		p.Step = 0
	case p.Step >= n:
		p.Step = n - 1
	}
	if len(p.Done) != n {
		done := make([]bool, n)
		copy(done, p.Done)
		p.Done = done
	}
	var passed []int
	for _, i := range p.Passed {
		if i >= 0 && i < len(lab.Steps[p.Step].Checks) {
			passed = append(passed, i)
		}
	}
	p.Passed = passed
}

// sameStep says p and q (both fitted to the lab) are at one step, entered
// at one moment: no command moved the learner in between.
func (p *Progress) sameStep(q *Progress) bool {
	return p.Step == q.Step && p.Entered.Equal(q.Entered)
}

// newProgress is a lab's progress at its start.
func newProgress(lab *content.Lab) *Progress {
	return &Progress{Lab: lab.ID, Done: make([]bool, len(lab.Steps))}
}

// ProgressStore keeps a learner's progress: files on this machine (Store,
// the kind target) or a ConfigMap in the learner's namespace
// (ConfigMapStore, a class cluster, so the learner can change machines and
// the instructor can read it). Update is a read-modify-write that never
// loses another command's change.
type ProgressStore interface {
	Load(ctx context.Context, lab string) (*Progress, error)
	Save(ctx context.Context, lab string, p *Progress) error
	Update(ctx context.Context, lab string, fn func(cur *Progress) (*Progress, error)) error
	Current(ctx context.Context) (lab, file string, err error)
	SetCurrent(ctx context.Context, lab, file string) error
}

// ErrDamaged marks a progress file that cannot be read.
var ErrDamaged = errors.New("progress file is damaged")

// Store keeps progress files under the state dir, one per lab, plus which
// lab is current. Writes are atomic; read-modify-write goes through Update,
// under a lock, so two commands never lose each other's change.
type Store struct {
	Dir string
	// Lock is the file that serialises updates.
	Lock string
}

func (s Store) file(lab string) string { return filepath.Join(s.Dir, "progress", lab+".json") }

// Load returns the lab's progress, or nil when it was never started. The
// file's own "lab" field is not trusted: the file name says whose it is.
func (s Store) Load(_ context.Context, lab string) (*Progress, error) {
	b, err := os.ReadFile(s.file(lab))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading progress of %s: %w", lab, err)
	}
	var p Progress
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%w: %s (%v); `labs reset %s` starts the lab over", ErrDamaged, s.file(lab), err, lab)
	}
	p.Lab = lab
	return &p, nil
}

// Save writes lab's progress atomically: a crash leaves the old file or the
// new. Callers that read first use Update.
func (s Store) Save(ctx context.Context, lab string, p *Progress) error {
	release, err := lockFile(ctx, s.Lock, nil)
	if err != nil {
		return err
	}
	defer release()
	return s.write(lab, p)
}

func (s Store) write(lab string, p *Progress) error {
	p.Lab = lab
	p.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(s.file(lab), b)
}

// Update reads lab's progress, lets fn change it and writes it back, all
// under the lock. fn gets nil when the lab was never started and returns
// the progress to write (nil: write nothing). Keep fn short: other commands
// wait for it.
func (s Store) Update(ctx context.Context, lab string, fn func(cur *Progress) (*Progress, error)) error {
	release, err := lockFile(ctx, s.Lock, nil)
	if err != nil {
		return err
	}
	defer release()
	cur, err := s.Load(ctx, lab)
	if err != nil {
		return err
	}
	next, err := fn(cur)
	if err != nil || next == nil {
		return err
	}
	return s.write(lab, next)
}

// Current is the lab the learner started last ("" if none) and, for a lab
// started from a file, that file's path.
func (s Store) Current(context.Context) (lab, file string, err error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "current"))
	if errors.Is(err, os.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	lab, file, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lab), strings.TrimSpace(file), nil
}

// SetCurrent records the current lab ("" clears it) and the file it was
// started from ("" for a built-in lab).
func (s Store) SetCurrent(_ context.Context, lab, file string) error {
	if lab == "" {
		err := os.Remove(filepath.Join(s.Dir, "current"))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	body := lab + "\n"
	if file != "" {
		body += file + "\n"
	}
	return writeAtomic(filepath.Join(s.Dir, "current"), []byte(body))
}

func writeAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
