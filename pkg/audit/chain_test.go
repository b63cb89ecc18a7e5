package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/identity"
)

// memLog is a stored log held in memory, read a page at a time like a store.
type memLog struct {
	recs  []identity.AuditRecord
	reads int
}

func (m *memLog) AuditRecords(_ context.Context, afterSeq int64, limit int) ([]identity.AuditRecord, error) {
	m.reads++
	var out []identity.AuditRecord
	for _, r := range m.recs {
		if r.Seq > afterSeq && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func TestVerifyLog(t *testing.T) {
	recs := chain(t, 2*pageSize+7) // several pages, the last one short
	head := Anchor{recs[len(recs)-1].Seq, recs[len(recs)-1].Hash}
	mid := Anchor{recs[100].Seq, recs[100].Hash}
	altered := slices.Clone(recs)
	altered[2500].Reason = "nothing to see"
	tests := []struct {
		name    string
		recs    []identity.AuditRecord
		anchors []Anchor
		want    string // "" for a verified log
	}{
		{"intact", recs, nil, ""},
		{"intact, with anchors in it", recs, []Anchor{mid, head}, ""},
		{"a record altered", altered, nil, "at record 2501: contents do not match its hash"},
		{"a record deleted", slices.Delete(slices.Clone(recs), 10, 11), nil, "expected record 11, found 12"},
		// The chain alone cannot see its newest records go; the head kept from an earlier
		// verification does.
		{"records removed from the end", recs[:3000], nil, ""},
		{"records removed from the end, anchored", recs[:3000], []Anchor{head}, "the log ends at record 3000"},
		{"rewritten from record 50 on, anchored", rewrite(t, recs, 50), []Anchor{mid}, "at record 101: its hash is"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &memLog{recs: tc.recs}
			res, err := VerifyLog(context.Background(), log, tc.anchors...)
			if tc.want == "" {
				last := tc.recs[len(tc.recs)-1]
				if err != nil || res.Count != int64(len(tc.recs)) || res.Head != (Anchor{last.Seq, last.Hash}) || res.First.Seq != 1 || res.Partial {
					t.Fatalf("VerifyLog = %+v, %v; want all %d records verified up to %d", res, err, len(tc.recs), last.Seq)
				}
				if log.reads > len(tc.recs)/pageSize+1 {
					t.Errorf("%d reads for %d records: not paged", log.reads, len(tc.recs))
				}
				return
			}
			if !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("VerifyLog = %v; want ErrBroken saying %q", err, tc.want)
			}
		})
	}
}

// rewrite re-links every record from index from on, as someone with write access to the
// database (but not to an auditor's notes) could: the chain is valid again, the hashes differ.
func rewrite(t *testing.T, recs []identity.AuditRecord, from int) []identity.AuditRecord {
	t.Helper()
	out := slices.Clone(recs)
	out[from].Reason = "rewritten"
	for i := from; i < len(out); i++ {
		out[i] = Link(&out[i-1], out[i])
	}
	if err := verify(out); err != nil {
		t.Fatalf("the rewritten chain should verify on its own: %v", err)
	}
	return out
}

func TestAnExportVerifiesOnItsOwn(t *testing.T) {
	recs := chain(t, 40)
	var buf bytes.Buffer
	for _, r := range recs[9:] { // an export from record 10 on
		if err := WriteJSONL(&buf, r); err != nil {
			t.Fatal(err)
		}
	}
	export := buf.String()

	res, err := VerifyStream(ReadJSONL(strings.NewReader(export)), true, Anchor{recs[39].Seq, recs[39].Hash})
	if err != nil || !res.Partial || res.First.Seq != 10 || res.Head.Seq != 40 || res.Count != 31 {
		t.Fatalf("partial export: %+v, %v", res, err)
	}
	if _, err := VerifyStream(ReadJSONL(strings.NewReader(export)), false); !errors.Is(err, ErrBroken) {
		t.Fatalf("an export that starts at record 10, checked as a whole log: %v; want ErrBroken", err)
	}

	lines := strings.Split(strings.TrimSpace(export), "\n")
	var r identity.AuditRecord
	if err := json.Unmarshal([]byte(lines[5]), &r); err != nil {
		t.Fatal(err)
	}
	r.Actor = "cli:mallory"
	b, _ := json.Marshal(r)
	lines[5] = string(b)
	if _, err := VerifyStream(ReadJSONL(strings.NewReader(strings.Join(lines, "\n"))), true); !errors.Is(err, ErrBroken) ||
		!strings.Contains(err.Error(), "record 15") {
		t.Fatalf("an edited export line: %v; want ErrBroken at record 15", err)
	}

	for _, bad := range []struct{ text, want string }{
		{lines[0] + "\n{\"seq\": 11, \"hash\": \"ab\", \"colour\": 1}\n", "line 2: not an audit record"},
		{lines[0] + "\n\nnot json\n", "line 3: not an audit record"},
		{"{\"actor\": \"x\"}\n", "line 1: not an audit record: seq and hash are required"},
	} {
		_, err := VerifyStream(ReadJSONL(strings.NewReader(bad.text)), true)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ReadJSONL(%q): %v; want %q", bad.text, err, bad.want)
		}
	}
	if _, err := ReadJSONL(strings.NewReader(""))(); !errors.Is(err, io.EOF) {
		t.Errorf("empty export: %v; want io.EOF", err)
	}
}

func TestParseAnchor(t *testing.T) {
	h := strings.Repeat("ab", 32)
	if a, err := ParseAnchor(" 42:" + strings.ToUpper(h) + "\n"); err != nil || a != (Anchor{42, h}) || a.String() != "42:"+h {
		t.Fatalf("ParseAnchor = %+v, %v", a, err)
	}
	for _, bad := range []string{"", "42", "x:" + h, "0:" + h, "42:abc", "42:" + strings.Repeat("zz", 32)} {
		if _, err := ParseAnchor(bad); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", bad)
		}
	}
}
