package classview

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Laptop mode: every learner runs labs on their own machine, and their
// labs sends its progress events here. The class's state lives in Dir:
// the server's certificate (learners pin its fingerprint, from the join
// code: no man in the middle on the room's Wi-Fi), the class secret, the
// learners' tokens, and every event received (a restart replays them).
type Laptops struct {
	Board *Board
	Dir   string
	// Class names the class (files in Dir are CLASS.*).
	Class string
	// Rate is how many event posts a learner may send a second (burst 4×);
	// beyond it they get 429 and the server serves everyone else.
	Rate float64

	mu      sync.Mutex
	secret  string
	tokens  map[string]string // token -> learner
	log     *os.File
	buckets map[string]*bucket
}

// MaxEventsBody bounds a post of events; MaxEventsPerPost their number.
const (
	MaxEventsBody    = 64 << 10
	MaxEventsPerPost = 200
	maxDetail        = 1024
)

var learnerName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$`)

func (l *Laptops) file(ext string) string { return filepath.Join(l.Dir, l.Class+"."+ext) }

// Open loads (or makes) the class's secret and tokens, replays the events
// received before, and opens the event log for appending.
func (l *Laptops) Open() error {
	if err := os.MkdirAll(l.Dir, 0o700); err != nil {
		return err
	}
	l.tokens, l.buckets = map[string]string{}, map[string]*bucket{}
	if b, err := os.ReadFile(l.file("secret")); err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		l.secret = strings.TrimSpace(string(b))
	} else {
		l.secret = randomHex(12)
		if err := os.WriteFile(l.file("secret"), []byte(l.secret+"\n"), 0o600); err != nil {
			return err
		}
	}
	if b, err := os.ReadFile(l.file("tokens.json")); err == nil {
		if err := json.Unmarshal(b, &l.tokens); err != nil {
			return fmt.Errorf("%s is damaged (%v): delete it, and learners join again", l.file("tokens.json"), err)
		}
	}
	for _, name := range l.tokens {
		l.Board.AddLearner(name, "")
	}
	// The events taken before, read once: replayed, and a line cut by a
	// crash ended so the next event does not join it.
	old, err := os.ReadFile(l.file("events.jsonl"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var evs []Event
	for _, line := range bytes.Split(old, []byte("\n")) {
		var ev Event
		if json.Unmarshal(line, &ev) == nil {
			evs = append(evs, ev)
		}
	}
	l.apply(evs)
	f, err := os.OpenFile(l.file("events.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		_, _ = f.Write([]byte("\n"))
	}
	l.log = f
	return nil
}

// Close closes the event log.
func (l *Laptops) Close() error {
	if l.log == nil {
		return nil
	}
	return l.log.Close()
}

// apply puts laptop events on the board and returns those it did not
// have: the server cannot judge a learner's own cluster, so what they
// report done stands.
func (l *Laptops) apply(evs []Event) []Event {
	fresh := l.Board.ApplyNew(evs...)
	for _, ev := range fresh {
		if ev.What == Done {
			l.Board.Verify(ev.Learner, ev.Lab, ev.Step)
		}
	}
	return fresh
}

// Certificate is the server's TLS certificate for hosts, made once and
// kept in Dir; its SHA-256 fingerprint goes into the join code.
func (l *Laptops) Certificate(hosts []string) (tls.Certificate, string, error) {
	crt, key := l.file("crt"), l.file("key")
	if c, err := tls.LoadX509KeyPair(crt, key); err == nil {
		return c, Fingerprint(c.Certificate[0]), nil
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "labs class " + l.Class},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(90 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	kb, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	if err := os.WriteFile(crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return tls.Certificate{}, "", err
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return tls.Certificate{}, "", err
	}
	c, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	return c, Fingerprint(der), nil
}

// Fingerprint is the SHA-256 of a certificate's DER, in hex.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// JoinCode is what a learner types (`labs join CODE --name NAME`): the
// server's address, the class secret and the certificate's fingerprint.
type JoinCode struct {
	Addr        string `json:"a"`
	Class       string `json:"c"`
	Secret      string `json:"s"`
	Fingerprint string `json:"f"`
}

const joinPrefix = "labs1-"

func (j JoinCode) String() string {
	b, _ := json.Marshal(j)
	return joinPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// IsJoinCode tells a join code from a kubeconfig file's name.
func IsJoinCode(s string) bool { return strings.HasPrefix(s, joinPrefix) }

// ParseJoinCode reads a code ParseJoinCode.String wrote.
func ParseJoinCode(s string) (JoinCode, error) {
	var j JoinCode
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), joinPrefix))
	if err == nil {
		err = json.Unmarshal(b, &j)
	}
	if err != nil || j.Addr == "" || j.Secret == "" || len(j.Fingerprint) != 64 {
		return JoinCode{}, errors.New("that is not a whole join code: copy it again from the instructor's screen (it starts labs1-)")
	}
	return j, nil
}

// Code is the class's join code for a server on addr.
func (l *Laptops) Code(addr, fingerprint string) JoinCode {
	return JoinCode{Addr: addr, Class: l.Class, Secret: l.secret, Fingerprint: fingerprint}
}

// Routes adds the learners' endpoints to mux: POST /api/join (the class
// secret and a name give a learner's own token) and POST /api/events
// (a learner's token appends events as that learner, no one else).
func (l *Laptops) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/join", l.join)
	mux.HandleFunc("POST /api/events", l.events)
}

// JoinRequest and JoinReply are /api/join's body and answer.
type JoinRequest struct {
	Secret string `json:"secret"`
	Name   string `json:"name"`
}

type JoinReply struct {
	Learner string `json:"learner"`
	Token   string `json:"token"`
}

func (l *Laptops) join(w http.ResponseWriter, r *http.Request) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Second))
	if !l.allow("join:" + clientIP(r)) {
		http.Error(w, "too many joins from this address: wait a second", http.StatusTooManyRequests)
		return
	}
	var req JoinRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
		http.Error(w, "a join is JSON {secret, name}", http.StatusBadRequest)
		return
	}
	if subtle.ConstantTimeCompare([]byte(req.Secret), []byte(l.secret)) != 1 {
		http.Error(w, "wrong class secret: copy the join code again from the instructor's screen", http.StatusForbidden)
		return
	}
	if !learnerName.MatchString(req.Name) {
		http.Error(w, "a name is 1-32 lower-case letters, digits and '-'", http.StatusBadRequest)
		return
	}
	tok := randomHex(24)
	l.mu.Lock()
	for _, n := range l.tokens {
		if n == req.Name {
			l.mu.Unlock()
			// Everyone has the class secret: a name is its first joiner's.
			http.Error(w, fmt.Sprintf("the name %s is taken in this class: pick another, or ask the instructor to free it (labs class serve --class %s --laptops --free %s)", req.Name, l.Class, req.Name), http.StatusConflict)
			return
		}
	}
	l.tokens[tok] = req.Name
	err := l.saveTokens()
	l.mu.Unlock()
	if err != nil {
		http.Error(w, "the server cannot keep your token: "+err.Error(), http.StatusInternalServerError)
		return
	}
	l.Board.AddLearner(req.Name, "")
	writeJSON(w, JoinReply{Learner: req.Name, Token: tok})
}

// saveTokens writes the tokens (held: l.mu), whole or not at all.
func (l *Laptops) saveTokens() error {
	b, _ := json.MarshalIndent(l.tokens, "", " ")
	tmp := l.file("tokens.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, l.file("tokens.json"))
}

// Free forgets a learner's tokens: their name can be joined again (a new
// machine). The server must not be running (it keeps its own copy).
func (l *Laptops) Free(name string) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for tok, who := range l.tokens {
		if who == name {
			delete(l.tokens, tok)
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	return n, l.saveTokens()
}

// EventsRequest is /api/events's body.
type EventsRequest struct {
	Events []Event `json:"events"`
}

func (l *Laptops) events(w http.ResponseWriter, r *http.Request) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Second))
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	l.mu.Lock()
	who, ok := l.tokens[tok]
	l.mu.Unlock()
	if !ok || tok == "" {
		http.Error(w, "unknown learner token: `labs join CODE --name NAME` again", http.StatusUnauthorized)
		return
	}
	if !l.allow("events:" + tok) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many posts: slow down", http.StatusTooManyRequests)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxEventsBody+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > MaxEventsBody {
		http.Error(w, fmt.Sprintf("over %d bytes: send fewer events at once", MaxEventsBody), http.StatusRequestEntityTooLarge)
		return
	}
	var req EventsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "events are JSON {events: [{at, lab, step, what, detail}]}", http.StatusBadRequest)
		return
	}
	if len(req.Events) > MaxEventsPerPost {
		http.Error(w, fmt.Sprintf("over %d events: send fewer at once", MaxEventsPerPost), http.StatusRequestEntityTooLarge)
		return
	}
	// An event that cannot be right (a skewed clock, an unknown kind) is
	// left out; the others are kept: the sender drops what was posted.
	var good []Event
	skipped := 0
	for _, ev := range req.Events {
		ev.Learner = who // a token speaks for its learner only
		if validEvent(ev) != nil {
			skipped++
			continue
		}
		if len(ev.Detail) > maxDetail {
			ev.Detail = ev.Detail[:maxDetail] + "..."
		}
		good = append(good, ev)
	}
	fresh := l.apply(good) // a resent event is not kept twice
	l.mu.Lock()
	for _, ev := range fresh {
		b, _ := json.Marshal(ev)
		if _, err = l.log.Write(append(b, '\n')); err != nil {
			break
		}
	}
	l.mu.Unlock()
	if err != nil {
		http.Error(w, "the server cannot keep events: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("X-Labs-Skipped", fmt.Sprint(skipped))
	w.WriteHeader(http.StatusNoContent)
}

var labID = regexp.MustCompile(`^[a-z0-9][-a-z0-9.]{0,62}$`)

func validEvent(ev Event) error {
	switch ev.What {
	case Enter, Done, Hint, Solve, Answer, Fail:
	default:
		return fmt.Errorf("what %q is not enter, done, hint, solve, answer or fail", ev.What)
	}
	switch {
	case !labID.MatchString(ev.Lab):
		return fmt.Errorf("lab %q is not a lab id", ev.Lab)
	case ev.Step < 1 || ev.Step > 100:
		return fmt.Errorf("step %d is not 1-100", ev.Step)
	case ev.At.IsZero() || ev.At.After(time.Now().Add(time.Hour)):
		return fmt.Errorf("at %s is no time of this class", ev.At)
	}
	return nil
}

func clientIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// bucket is a token bucket: rate a second, burst 4×rate.
type bucket struct {
	tokens float64
	last   time.Time
}

func (l *Laptops) allow(key string) bool {
	rate := l.Rate
	if rate <= 0 {
		rate = 5
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: 4 * rate, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(4*rate, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on the systems labs runs on
	}
	return hex.EncodeToString(b)
}
