package classview

import (
	"crypto/subtle"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"time"
)

//go:embed page
var pageFS embed.FS

// Server serves the board to the instructor's browser: the page, its
// JSON, a live stream of views (server-sent events) and a learner's
// history. Every request needs the instructor's token; the Host header
// must name the address served (a page elsewhere cannot reach it through
// DNS rebinding).
type Server struct {
	Board *Board
	// Token is the instructor's: `?token=` once (it becomes a cookie) or
	// `Authorization: Bearer`.
	Token string
	// Hosts are the Host header values accepted (host:port).
	Hosts []string
	// Lang is the page's language: "en" or "ko".
	Lang string
	// Heartbeat is how often an idle stream sends a comment, so proxies
	// and the browser keep it open; 0 is 15 s.
	Heartbeat time.Duration
	// Laptops, if set, takes learners' events from their own machines
	// (their own tokens, not the instructor's).
	Laptops *Laptops

	page *template.Template
}

const cookieName = "labs_class_token"

// Handler is the server's routes.
func (s *Server) Handler() (http.Handler, error) {
	t, err := template.ParseFS(pageFS, "page/index.html")
	if err != nil {
		return nil, fmt.Errorf("the class page: %w", err)
	}
	s.page = t
	static, err := fs.Sub(pageFS, "page")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /api/view", s.view)
	mux.HandleFunc("GET /api/stream", s.stream)
	mux.HandleFunc("GET /api/history/{learner}", s.history)
	mux.HandleFunc("GET /export.csv", s.csv)
	if s.Laptops != nil {
		s.Laptops.Routes(mux)
	}
	return s.guard(mux), nil
}

// guard checks the Host header, then the token.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			http.Error(w, "labs class serve: unknown Host "+r.Host, http.StatusMisdirectedRequest)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(r.URL.Path, "/static/") || s.Laptops != nil && r.Method == http.MethodPost && (r.URL.Path == "/api/join" || r.URL.Path == "/api/events") {
			next.ServeHTTP(w, r) // no secrets in the assets; learners have tokens of their own
			return
		}
		if tok := r.URL.Query().Get("token"); tok != "" && s.tokenOK(tok) && r.URL.Path == "/" {
			http.SetCookie(w, &http.Cookie{Name: cookieName, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
			http.Redirect(w, r, "/", http.StatusSeeOther) // the token leaves the address bar
			return
		}
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="labs class"`)
			http.Error(w, "labs class serve: open the address `labs class serve` printed (it carries the instructor's token)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) tokenOK(tok string) bool {
	return s.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.Token)) == 1
}

func (s *Server) authorized(r *http.Request) bool {
	if c, err := r.Cookie(cookieName); err == nil && s.tokenOK(c.Value) {
		return true
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.tokenOK(tok) {
		return true
	}
	return false
}

func (s *Server) hostAllowed(host string) bool {
	for _, h := range s.Hosts {
		if strings.EqualFold(host, h) {
			return true
		}
	}
	return false
}

// pageText are the page's words in each language.
func pageText(lang string) map[string]string {
	if lang == "ko" {
		return map[string]string{
			"title": "수업", "learner": "학습자", "lab": "실습", "step": "단계", "onStep": "이 단계에서", "help": "힌트/풀이",
			"last": "마지막 실패한 검사", "stuck": "막힘", "onOrPast": "이 단계 이상", "history": "기록", "close": "닫기",
			"offline": "연결이 끊겼습니다: 다시 연결하는 중", "claims": "주장", "finished": "완료", "export": "CSV 내보내기",
			"verdict": "서버 판정", "none": "아직 학습자가 없습니다", "learners": "명",
		}
	}
	return map[string]string{
		"title": "Class", "learner": "Learner", "lab": "Lab", "step": "Step", "onStep": "On step", "help": "Hints/solves",
		"last": "Last failing check", "stuck": "stuck", "onOrPast": "on or past", "history": "History", "close": "Close",
		"offline": "Connection lost: reconnecting", "claims": "claims", "finished": "finished", "export": "Export CSV",
		"verdict": "Server's verdict", "none": "No learner yet", "learners": "learners",
	}
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	v, err := json.Marshal(s.Board.View())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	words, _ := json.Marshal(pageText(s.Lang))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'")
	w.Header().Set("Cache-Control", "no-store")
	err = s.page.Execute(w, map[string]any{
		"Class": s.Board.Class, "Lang": s.lang(), "T": pageText(s.Lang),
		"View": string(v), "Words": string(words),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (s *Server) lang() string {
	if s.Lang == "ko" {
		return "ko"
	}
	return "en"
}

func (s *Server) view(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.Board.View())
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	h, ok := s.Board.History(r.PathValue("learner"))
	if !ok {
		http.Error(w, "no such learner", http.StatusNotFound)
		return
	}
	writeJSON(w, h)
}

func (s *Server) csv(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", s.Board.Class+".csv"))
	_ = WriteCSV(w, s.Board.View())
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// stream sends the whole view at once and after every change (a burst of
// changes is sent once, at most every 100 ms), until the browser leaves.
// The browser's EventSource reconnects by itself and gets the whole view
// again: nothing is lost across a server restart.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	changes, stop := s.Board.Subscribe()
	defer stop()
	beat := s.Heartbeat
	if beat == 0 {
		beat = 15 * time.Second
	}
	tick := time.NewTicker(beat)
	defer tick.Stop()
	send := func() bool {
		b, err := json.Marshal(s.Board.View())
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: view\ndata: %s\n\n", b); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if _, err := fmt.Fprint(w, "retry: 1000\n\n"); err != nil || !send() {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-changes:
			select { // let a burst settle
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
			if !send() {
				return
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// HostsFor are the Host values a server listening on addr accepts: the
// address itself and, on a loopback address, localhost with its port.
func HostsFor(addr string) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []string{addr}
	}
	out := []string{addr}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		out = append(out, net.JoinHostPort("localhost", port), net.JoinHostPort("127.0.0.1", port))
	}
	return out
}
