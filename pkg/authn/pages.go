package authn

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the sign-in screens: plain HTML forms with labels and autocomplete hints, no script.
type pages struct {
	t *template.Template
}

func newPages() (*pages, error) {
	t, err := template.New("").Funcs(template.FuncMap{"t": msg}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &pages{t: t}, nil
}

// page is what every template gets.
type page struct {
	Title  string // message ID
	CSRF   string
	Next   string
	Error  string // message ID
	Notice string // message ID
	Link   string
	Login  string
	Data   any
	Action string
}

func (m *Manager) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.CSRF = csrfToken(r)
	var buf bytes.Buffer
	if err := m.pages.t.ExecuteTemplate(&buf, name, p); err != nil {
		m.opt.Logger.Error("render page", "page", name, "err", err)
		http.Error(w, msg("error.text"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// message shows a page with a title, a text and a link onwards.
func (m *Manager) message(w http.ResponseWriter, r *http.Request, status int, title, text, link string) {
	m.render(w, r, status, "message.html", page{Title: title, Notice: text, Link: link})
}

func (m *Manager) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	m.opt.Logger.Error(what, "path", r.URL.Path, "err", err)
	m.message(w, r, http.StatusInternalServerError, "error.title", "error.text", "")
}
