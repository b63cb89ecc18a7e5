package admin

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/hr"
)

// VerifyView is the result of verifying the audit chain, as `tenure audit verify -o json`
// prints it.
type VerifyView struct {
	Verified  bool   `json:"verified"`
	Records   int64  `json:"records"`
	FirstSeq  int64  `json:"first_seq"`
	HeadSeq   int64  `json:"head_seq"`
	HeadHash  string `json:"head_hash"`
	Head      string `json:"head"` // SEQ:HASH, for the anchor next time
	Partial   bool   `json:"partial"`
	Source    string `json:"source"`
	Anchors   int    `json:"anchors"`
	BrokenErr string `json:"error,omitempty"`
}

// ParseAnchors reads SEQ:HASH anchors.
func ParseAnchors(in []string) ([]audit.Anchor, error) {
	var out []audit.Anchor
	for _, s := range in {
		a, err := audit.ParseAnchor(s)
		if err != nil {
			return nil, &ParamError{Param: "anchor", Msg: "anchor: " + err.Error(), Usage: true, Err: err}
		}
		out = append(out, a)
	}
	return out, nil
}

// NewVerifyView describes a verification's result; verr is its error, nil when it verified.
// An error other than a broken chain (the database failing) is returned, not described.
func NewVerifyView(res audit.Result, verr error, source string, anchors int) (VerifyView, error) {
	if verr != nil && !errors.Is(verr, audit.ErrBroken) {
		return VerifyView{}, verr
	}
	v := VerifyView{Verified: verr == nil, Records: res.Count, FirstSeq: res.First.Seq, HeadSeq: res.Head.Seq,
		HeadHash: res.Head.Hash, Head: res.Head.String(), Partial: res.Partial, Source: source, Anchors: anchors}
	if verr != nil {
		v.BrokenErr = verr.Error()
	}
	return v, nil
}

// VerifyDatabase checks the whole chain in the database against the anchors.
func VerifyDatabase(ctx context.Context, r audit.Reader, anchors []audit.Anchor) (VerifyView, error) {
	res, verr := audit.VerifyLog(ctx, r, anchors...)
	return NewVerifyView(res, verr, "database", len(anchors))
}

// DayBound reads a date or an RFC 3339 time; a date is the start of that day in loc, or its
// last instant when end is set.
func DayBound(s string, loc *time.Location, end bool) (time.Time, error) {
	t, err := hr.ParseDate(s)
	if err != nil {
		return t, err
	}
	if len(strings.TrimSpace(s)) != len(time.DateOnly) {
		return t, nil
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	if end {
		return day.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
	}
	return day, nil
}
