package ldapsync

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/testenv"
)

// pagedSearch reads the next page while the caller works on one; a caller that fails, or
// closes a search it never read, stops the search on the server, and the connection stays
// usable for the next search.
func TestPagedSearchStopsWhenTheCallerFailsAndReadsEveryPageOtherwise(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	const base = "dc=hooli,dc=example"
	silo := testenv.StartSlapd(t, testenv.SlapdOptions{Suffix: base,
		LDIF: []string{filepath.Join(filepath.Dir(file), "..", "..", "testdata", "ldap", "hooli.ldif")}})
	src := config.LDAPSource{Name: "hooli", URL: silo.URL, BindDN: silo.RootDN, PasswordEnv: "PW", BaseDN: base, Timeout: "5s"}
	conn, err := dial(context.Background(), src, func(string) string { return silo.RootPW })
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const filter = "(objectClass=inetOrgPerson)"
	attrs := []string{"uid"}

	var all []string
	pages := 0
	err = pagedSearch(conn, base, filter, attrs, 2, func(page []*ldap.Entry) error {
		pages++
		if len(page) > 2 {
			t.Errorf("page %d has %d entries, want at most 2", pages, len(page))
		}
		for _, e := range page {
			all = append(all, e.GetAttributeValue("uid"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 5 || pages < 3 {
		t.Fatalf("read %d entries in %d pages; the test needs at least 5 users in pages of 2", len(all), pages)
	}

	stop := errors.New("caller gave up")
	calls := 0
	err = pagedSearch(conn, base, filter, attrs, 2, func([]*ldap.Entry) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("failing caller: err %v after %d calls; want the caller's error after 2", err, calls)
	}

	// readsAll checks that a whole search still works on the connection after what came before.
	readsAll := func(after string) {
		t.Helper()
		var got []string
		if err := pagedSearch(conn, base, filter, attrs, 100, func(page []*ldap.Entry) error {
			for _, e := range page {
				got = append(got, e.GetAttributeValue("uid"))
			}
			return nil
		}); err != nil {
			t.Fatalf("search after %s: %v", after, err)
		}
		if len(got) != len(all) {
			t.Fatalf("after %s: %d entries, want %d", after, len(got), len(all))
		}
	}
	readsAll("an abandoned search")

	// A search started early and closed unread (its caller failed while preparing) is
	// abandoned too, and closing it twice is harmless.
	unread := startPagedSearch(conn, base, filter, attrs, 2)
	unread.close()
	unread.close()
	readsAll("a search closed unread")
}
