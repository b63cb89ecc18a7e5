package sqlstore

import (
	"encoding/json"
	"testing"
	"time"
)

var trickyStrings = []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr",
	"\b\f\x00\x01\x1f\x7f", "José Ñúñez", "日本語", "line\u2028sep\u2029para", "bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate",
	"emoji 😀 ok"}

// The hand-written encoder must write exactly what encoding/json writes, so stored rows and
// audit hashes never depend on which one wrote them.
func TestJSONEncoderMatchesEncodingJSON(t *testing.T) {
	same := func(t *testing.T, what string, got []byte, v any) {
		t.Helper()
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", what, got, want)
		}
	}
	for _, s := range trickyStrings {
		same(t, "string "+s, appendJSONString(nil, s), s)
	}
	maps := []map[string]string{nil, {}, {"b": "2", "a": "1", "<k>": "v&"}, {"first_name": "José", "x\ny": "\xff"}}
	for _, m := range maps {
		same(t, "map", appendJSONStringMap(nil, m), m)
	}
	for _, l := range [][]string{nil, {}, trickyStrings} {
		same(t, "list", appendJSONStrings(nil, l), l)
	}
	removed := time.Date(2026, 11, 28, 9, 30, 0, 123456000, time.UTC)
	views := []*ldapEntryAudit{
		{},
		{ID: "id", DN: "uid=a,dc=x", Status: "active", Link: "unmatched"},
		{ID: "id", DN: "uid=<a>,dc=x", Username: "a", Email: "a@x", EmployeeNumber: "E1", DisplayName: "A \"B\"", FirstName: "A", LastName: "<B>",
			Attributes: map[string]string{"last_name": "B", "first_name": "A"}, Status: "removed", Stamp: "s#1",
			PersonID: "p", Link: "conflict", LinkRule: "email", Candidates: []string{"p", "q"}, LinkNote: "two\nmatch",
			RemovedAt: &removed},
	}
	for _, v := range views {
		same(t, "audit view", v.appendJSON(nil), v)
	}
}

func TestJSONColumnsAreEmptyForNothing(t *testing.T) {
	if stringMapColumn(nil) != "" || stringMapColumn(map[string]string{}) != "" || stringsColumn(nil) != "" || stringsColumn([]string{}) != "" {
		t.Fatal("empty values must be stored as empty columns, as toJSON stores them")
	}
	if got := stringMapColumn(map[string]string{"a": "1"}); got != toJSON(map[string]string{"a": "1"}) {
		t.Fatalf("stringMapColumn = %s, toJSON gives %s", got, toJSON(map[string]string{"a": "1"}))
	}
	if got := stringsColumn([]string{"a"}); got != toJSON([]string{"a"}) {
		t.Fatalf("stringsColumn = %s, toJSON gives %s", got, toJSON([]string{"a"}))
	}
}
