package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/labs-dev/labs/checks"
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
	Updated  time.Time        `json:"updated"`
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

// Store keeps progress files under the state dir, one per lab, plus the
// name of the current lab.
type Store struct{ Dir string }

func (s Store) file(lab string) string { return filepath.Join(s.Dir, "progress", lab+".json") }

// Load returns the lab's progress, or nil when it was never started.
func (s Store) Load(lab string) (*Progress, error) {
	b, err := os.ReadFile(s.file(lab))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading progress of %s: %w", lab, err)
	}
	var p Progress
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("progress file %s is damaged (%v): run `labs reset %s`", s.file(lab), err, lab)
	}
	return &p, nil
}

// Save writes progress atomically: a crash leaves the old file or the new.
func (s Store) Save(p *Progress) error {
	p.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(s.file(p.Lab), b)
}

// Forget deletes a lab's progress.
func (s Store) Forget(lab string) error {
	if err := os.Remove(s.file(lab)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Current is the lab the learner started last, "" if none.
func (s Store) Current() (string, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "current"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(string(b)), err
}

// SetCurrent records the current lab ("" clears it).
func (s Store) SetCurrent(lab string) error {
	if lab == "" {
		err := os.Remove(filepath.Join(s.Dir, "current"))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	return writeAtomic(filepath.Join(s.Dir, "current"), []byte(lab+"\n"))
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
