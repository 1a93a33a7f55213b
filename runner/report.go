package runner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/labs-dev/labs/runner/classview"
)

// Reporting is this machine's membership of a class whose learners run
// labs on their own machines (`labs join CODE --name NAME`): every
// progress event is sent to the instructor's server. Sending is
// best-effort and never in a command's way: events are queued on disk and
// a background process sends them, again and again until the server takes
// them.
type Reporting struct {
	Server      string    `json:"server"`      // host:port
	Fingerprint string    `json:"fingerprint"` // of the server's certificate, pinned
	Class       string    `json:"class"`
	Learner     string    `json:"learner"`
	Token       string    `json:"token"`
	Joined      time.Time `json:"joined"`
}

func reportingFile(p Paths) string { return filepath.Join(p.ConfigDir, "reporting.json") }
func reportDir(p Paths) string     { return filepath.Join(p.StateDir, "report") }
func queueFile(p Paths) string     { return filepath.Join(reportDir(p), "queue.jsonl") }
func queueLock(p Paths) string     { return filepath.Join(reportDir(p), "queue.lock") }

// WhatIsShared is said once, at join: what leaves this machine, and how to
// stop it.
const WhatIsShared = "labs now sends your progress to your instructor's server %s: the lab and step you are on, steps done, hints shown, solutions run, answers given, and what a failing check expected and found, each with its time. Nothing else (no files, no commands, no cluster contents). `labs join --leave` stops it."

// ReadReporting is the machine's reporting membership, nil when none.
func ReadReporting(p Paths) (*Reporting, error) {
	b, err := os.ReadFile(reportingFile(p))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Reporting
	if err := json.Unmarshal(b, &r); err != nil || r.Server == "" || r.Token == "" {
		return nil, fmt.Errorf("%s is damaged: `labs join --leave`, then join again with the class's code", reportingFile(p))
	}
	return &r, nil
}

// pinnedClient talks TLS to a server whose certificate has fingerprint,
// and to no other (the join code carries it: a man in the middle on the
// room's network has another).
func pinnedClient(fingerprint string, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy: nil, // the room's server is on the room's network
			TLSClientConfig: &tls.Config{
				InsecureSkipVerify: true, // a self-made certificate: checked by its fingerprint below
				VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
					if len(raw) == 0 || classview.Fingerprint(raw[0]) != fingerprint {
						return errors.New("the server's certificate is not the one in the join code: someone may be in the middle; ask your instructor")
					}
					return nil
				},
			},
		},
	}
}

// JoinLaptopClass joins the class of code as name: the server gives this
// machine a token of its own, kept (0600) for the events it sends.
func JoinLaptopClass(ctx context.Context, p Paths, code classview.JoinCode, name string) (*Reporting, error) {
	body, _ := json.Marshal(classview.JoinRequest{Secret: code.Secret, Name: name})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+code.Addr+"/api/join", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := pinnedClient(code.Fingerprint, 15*time.Second).Do(req)
	if err != nil {
		return nil, fmt.Errorf("joining class %s at %s: %w (is the instructor's server running, and this machine on the room's network?)", code.Class, code.Addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return nil, fmt.Errorf("joining class %s: the server answered %s: %s", code.Class, resp.Status, bytes.TrimSpace(msg))
	}
	var rep classview.JoinReply
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return nil, fmt.Errorf("joining class %s: reading the answer: %w", code.Class, err)
	}
	r := &Reporting{Server: code.Addr, Fingerprint: code.Fingerprint, Class: code.Class, Learner: rep.Learner, Token: rep.Token, Joined: time.Now().UTC()}
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := os.MkdirAll(p.ConfigDir, 0o700); err != nil {
		return nil, err
	}
	if err := writeAtomic(reportingFile(p), b); err != nil {
		return nil, err
	}
	return r, nil
}

// LeaveReporting stops sending: the membership and the unsent queue go.
func LeaveReporting(p Paths) (*Reporting, error) {
	r, err := ReadReporting(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		r = &Reporting{} // damaged: leave anyway
	}
	if err := os.Remove(reportingFile(p)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	_ = os.RemoveAll(reportDir(p))
	return r, nil
}

// reportingStore is a progress store whose writes also queue the history
// records they add, for the class's server: the one place progress is
// written is the one place events come from.
type reportingStore struct {
	ProgressStore
	r *Runner
}

func (s reportingStore) Save(ctx context.Context, lab string, p *Progress) error {
	before, _ := s.ProgressStore.Load(ctx, lab)
	if err := s.ProgressStore.Save(ctx, lab, p); err != nil {
		return err
	}
	s.r.queueEvents(lab, before, p)
	return nil
}

func (s reportingStore) Update(ctx context.Context, lab string, fn func(cur *Progress) (*Progress, error)) error {
	var before, after *Progress
	err := s.ProgressStore.Update(ctx, lab, func(cur *Progress) (*Progress, error) {
		if cur != nil {
			c := *cur
			c.History = append([]Record(nil), cur.History...)
			before = &c
		}
		p, err := fn(cur)
		after = p
		return p, err
	})
	if err == nil {
		s.r.queueEvents(lab, before, after)
	}
	return err
}

// queueEvents appends the records after has and before had not to the
// queue, and wakes the sender. Nothing here may fail a command.
func (r *Runner) queueEvents(lab string, before, after *Progress) {
	if after == nil {
		return
	}
	had := map[Record]bool{}
	if before != nil {
		for _, h := range before.History {
			had[h] = true
		}
	}
	var buf bytes.Buffer
	for _, h := range after.History {
		if had[h] {
			continue
		}
		b, _ := json.Marshal(classview.Event{At: h.At, Lab: lab, Step: h.Step, What: h.What, Detail: h.Detail})
		buf.Write(append(b, '\n'))
	}
	if buf.Len() == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	release, err := lockFile(ctx, queueLock(r.Paths), nil) // the sender holds it for milliseconds
	if err != nil {
		return
	}
	f, err := os.OpenFile(queueFile(r.Paths), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err == nil {
		_, _ = f.Write(buf.Bytes())
		f.Close()
	}
	release()
	if r.KickReporter != nil {
		r.KickReporter()
	}
}

// StartReporter starts `labs EXE __report` detached: it sends the queue
// and exits; the command that queued does not wait for it.
func StartReporter(exe string, env []string) {
	cmd := exec.Command(exe, "__report")
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	cmd.SysProcAttr = newSession()
	if cmd.Start() == nil {
		_ = cmd.Process.Release()
	}
}

// FlushReports sends the queue to the server until it is empty, waiting
// longer after each failure (up to a minute), for at most giveUp. Only one
// sender runs at a time; another returns at once.
func FlushReports(ctx context.Context, p Paths, rep Reporting, giveUp time.Duration) error {
	try, cancel := context.WithTimeout(ctx, 50*time.Millisecond) // once, hardly waiting
	release, err := lockFile(try, filepath.Join(reportDir(p), "send.lock"), nil)
	cancel()
	if err != nil {
		return nil // another sender has it
	}
	defer release()
	client := pinnedClient(rep.Fingerprint, 10*time.Second)
	deadline := time.Now().Add(giveUp)
	wait := time.Second
	for {
		n, err := sendQueue(ctx, client, p, rep)
		if err == nil && n == 0 {
			return nil
		}
		if err == nil {
			wait = time.Second
			continue
		}
		if time.Now().Add(wait).After(deadline) {
			return err // the next command queues and starts a sender again
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

// sendQueue posts the queue's first events and removes them once the
// server took them; n is how many were sent.
func sendQueue(ctx context.Context, client *http.Client, p Paths, rep Reporting) (n int, err error) {
	head, err := queueHead(p)
	if err != nil {
		return 0, err
	}
	var evs []classview.Event
	var size int64
	sc := bufio.NewScanner(bytes.NewReader(head))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() && len(evs) < classview.MaxEventsPerPost && size < classview.MaxEventsBody/2 {
		var ev classview.Event
		size += int64(len(sc.Bytes())) + 1
		if json.Unmarshal(sc.Bytes(), &ev) == nil {
			evs = append(evs, ev)
		}
	}
	if size == 0 {
		return 0, nil
	}
	if len(evs) > 0 {
		body, _ := json.Marshal(classview.EventsRequest{Events: evs})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+rep.Server+"/api/events", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+rep.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusOK:
		case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge:
			// The server will never take these: drop them, not the rest.
		default:
			return 0, fmt.Errorf("the class server answered %s", resp.Status)
		}
	}
	return len(evs), dropQueueHead(p, size)
}

// queueHead reads the queue's whole lines, under the queue's lock (an
// append is never read half-written).
func queueHead(p Paths) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	release, err := lockFile(ctx, queueLock(p), nil)
	if err != nil {
		return nil, err
	}
	defer release()
	b, err := os.ReadFile(queueFile(p))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[:i+1], err
	}
	return nil, err
}

// dropQueueHead removes the first n bytes of the queue, keeping what was
// appended meanwhile (appends and this take the queue's lock).
func dropQueueHead(p Paths, n int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	release, err := lockFile(ctx, queueLock(p), nil)
	if err != nil {
		return err
	}
	defer release()
	b, err := os.ReadFile(queueFile(p))
	if err != nil {
		return err
	}
	if n > int64(len(b)) {
		n = int64(len(b))
	}
	return writeAtomic(queueFile(p), b[n:])
}
