package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/tenure-id/tenure/pkg/admin"
	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/report"
)

var reportFormats = map[string]struct {
	contentType string
	write       func(io.Writer, report.Report) error
}{
	"json": {"application/json", report.WriteJSON},
	"csv":  {"text/csv; charset=utf-8", report.WriteCSV},
	"html": {"text/html; charset=utf-8", report.WriteHTML},
}

// report is `tenure report NAME --format F [--as-of DATE]`, byte for byte.
func (a *adminAPI) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "json"
	}
	f, ok := reportFormats[format]
	if !ok {
		badParam(w, "format", "use json, csv or html")
		return
	}
	req := admin.ReportRequest{Name: r.PathValue("name"), AsOf: q.Get("as_of"), Location: a.cfg.Location, Now: a.cfg.Clock()}
	rep, err := admin.BuildReport(r.Context(), a.cfg.Store, a.cfg.Policy, req)
	if err != nil {
		a.fail(w, err)
		return
	}
	// Rendered whole before the status is sent, so a failure is still a problem, not half a file.
	var buf bytes.Buffer
	if err := f.write(&buf, rep); err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
}

func (a *adminAPI) auditVerify(w http.ResponseWriter, r *http.Request) {
	anchors, err := admin.ParseAnchors(r.URL.Query()["anchor"])
	if err != nil {
		a.fail(w, err)
		return
	}
	v, err := admin.VerifyDatabase(r.Context(), a.cfg.Store, anchors)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// auditExport streams the log after ?after=SEQ as JSON Lines, hashes included, so that
// `tenure audit verify --file` can check it. A failure midway ends the stream early: the
// client sees the last line's seq, and the chain verifier sees the gap.
func (a *adminAPI) auditExport(w http.ResponseWriter, r *http.Request) {
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			badParam(w, "after", "want a record number, 0 for the start")
			return
		}
		after = n
	}
	next := audit.Pages(r.Context(), a.cfg.Store, after, 0)
	first, err := next()
	if err != nil && !errors.Is(err, io.EOF) {
		a.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 1<<16)
	defer bw.Flush()
	for rec := first; err == nil; rec, err = next() {
		if werr := audit.WriteJSONL(bw, rec); werr != nil {
			return // the client went away
		}
	}
	if !errors.Is(err, io.EOF) {
		a.cfg.Logger.Error("audit export", "after", after, "err", err)
	}
}
