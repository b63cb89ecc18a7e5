package ldapsync_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/ldapsync"
)

func TestAttributePrecedence(t *testing.T) {
	tests := []struct {
		name    string
		order   []string
		hrTitle string
		want    string
	}{
		{"endframe over hooli", []string{"hr", "endframe", "hooli"}, "", "CEO"},
		{"hooli over endframe", []string{"hooli", "endframe"}, "", "Engineer"},
		{"hr over both", []string{"hr", "hooli", "endframe"}, "Chief Executive", "Chief Executive"},
		{"hr not listed", []string{"endframe", "hooli"}, "Chief Executive", "CEO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSilos(t)
			s.cfg.Precedence = map[string][]string{"title": tt.order}
			st := newStore(t)
			people := piedPiper(t, st)
			richard := people["E100"]
			if tt.hrTitle != "" {
				var err error
				if richard, err = st.UpdatePerson(context.Background(), richard.ID, func(p *identity.Person) error {
					p.JobTitle = tt.hrTitle
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			sy := newSyncer(st, s)
			res := mustSync(t, sy, true)
			got, err := st.GetPerson(context.Background(), richard.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Attributes["title"] != tt.want || got.JobTitle != richard.JobTitle {
				t.Errorf("title attribute = %q (job title %q), want %q and HR's field untouched", got.Attributes["title"], got.JobTitle, tt.want)
			}
			if res["hooli"].PeopleUpdated+res["endframe"].PeopleUpdated == 0 {
				t.Errorf("no people updated: %+v", res)
			}
			// Dinesh has no title anywhere: nothing is set.
			if d, _ := st.GetPerson(context.Background(), people["E101"].ID); d.Attributes["title"] != "" {
				t.Errorf("dinesh got title %q from nowhere", d.Attributes["title"])
			}
			again := mustSync(t, sy, true)
			if again["hooli"].PeopleUpdated+again["endframe"].PeopleUpdated != 0 {
				t.Errorf("second sync updated people again: %+v", again)
			}
			if p, _ := st.GetPerson(context.Background(), richard.ID); p.Version != got.Version {
				t.Errorf("person version moved from %d to %d on an idle sync", got.Version, p.Version)
			}
		})
	}
}

// failingStore refuses entry writes, as a full disk or a lost database would.
type failingStore struct {
	ldapsync.Store
}

var errDiskFull = errors.New("disk full")

func (failingStore) PutLDAPEntries(context.Context, []directory.LDAPEntry) error { return errDiskFull }

func TestStoreFailureFailsTheSourceAndKeepsTheMark(t *testing.T) {
	s := startSilos(t)
	st := newStore(t)
	piedPiper(t, st)
	sy := newSyncer(failingStore{st}, s)
	results, err := sy.Sync(ctxWithTimeout(t), []string{"hooli"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(results[0].Error, "disk full") {
		t.Errorf("result = %+v, want the write failure reported", results[0])
	}
	stt, _ := st.LDAPSyncState(context.Background(), "hooli")
	if stt.HighWater != "" || !strings.Contains(stt.LastError, "disk full") {
		t.Errorf("state = %+v, want no high-water mark and the error recorded", stt)
	}
	if es, _ := st.ListLDAPEntries(context.Background(), directory.LDAPEntryFilter{}); len(es) != 0 {
		t.Errorf("%d entries stored by a failed sync", len(es))
	}
}

// readFailingStore fails one of the reads a sync makes while the silo's first page is
// already on its way.
type readFailingStore struct {
	ldapsync.Store
	failPeople, failEntries bool
}

var errReadFailed = errors.New("read failed")

func (s readFailingStore) ListPeople(ctx context.Context, f directory.PersonFilter) ([]identity.Person, error) {
	if s.failPeople {
		return nil, errReadFailed
	}
	return s.Store.ListPeople(ctx, f)
}

func (s readFailingStore) ListLDAPEntries(ctx context.Context, f directory.LDAPEntryFilter) ([]directory.LDAPEntry, error) {
	if s.failEntries {
		return nil, errReadFailed
	}
	return s.Store.ListLDAPEntries(ctx, f)
}

// The silo search starts before the directory is read; a read that fails then abandons the
// search and reports the failure, and the next sync of the source runs in full.
func TestDirectoryReadFailureAbandonsTheSearch(t *testing.T) {
	s := startSilos(t)
	for _, tt := range []struct {
		name  string
		store func(ldapsync.Store) ldapsync.Store
	}{
		{"people", func(st ldapsync.Store) ldapsync.Store { return readFailingStore{Store: st, failPeople: true} }},
		{"stored entries", func(st ldapsync.Store) ldapsync.Store { return readFailingStore{Store: st, failEntries: true} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newStore(t)
			piedPiper(t, st)
			results, err := newSyncer(tt.store(st), s).Sync(ctxWithTimeout(t), []string{"hooli"}, true)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(results[0].Error, errReadFailed.Error()) || results[0].Read != 0 {
				t.Errorf("result = %+v, want the read failure and nothing read", results[0])
			}
			if es, _ := st.ListLDAPEntries(context.Background(), directory.LDAPEntryFilter{}); len(es) != 0 {
				t.Errorf("%d entries stored by a failed sync", len(es))
			}
			again := mustSync(t, newSyncer(st, s), false, "hooli")
			if !again["hooli"].Full || again["hooli"].Created == 0 {
				t.Errorf("sync after the failure = %+v, want a full sync that creates the entries", again["hooli"])
			}
		})
	}
}

func TestTLSModes(t *testing.T) {
	s := startSilos(t)
	ef := s.cfg.Sources[1]
	tests := []struct {
		name    string
		change  func(*config.LDAPSource)
		wantErr string
	}{
		{"ldaps with the CA", func(*config.LDAPSource) {}, ""},
		{"StartTLS with the CA", func(c *config.LDAPSource) { c.URL, c.StartTLS = s.endframe.URL, true }, ""},
		{"ldaps without trusting the CA", func(c *config.LDAPSource) { c.CAFile = "" }, "certificate"},
		{"StartTLS without trusting the CA", func(c *config.LDAPSource) { c.URL, c.StartTLS, c.CAFile = s.endframe.URL, true, "" }, "certificate"},
		{"CA file that is not PEM", func(c *config.LDAPSource) { c.CAFile = testdata("endframe.ldif") }, "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := ef
			tt.change(&src)
			st := newStore(t)
			sy := &ldapsync.Syncer{Store: st, Config: config.LDAP{Sources: []config.LDAPSource{src}}, Getenv: s.getenv}
			res, err := sy.SyncSource(ctxWithTimeout(t), src, true)
			if tt.wantErr == "" {
				if err != nil || res.Created != 4 {
					t.Fatalf("SyncSource = %+v, %v; want 4 entries created", res, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("SyncSource error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestScheduledJobs(t *testing.T) {
	s := startSilos(t)
	// A silo that accepts connections and never answers keeps its job busy.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	accepted := make(chan struct{}, 10)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			accepted <- struct{}{}
		}
	}()
	s.cfg.Sources[0].Schedule = "*/5 * * * *"
	s.cfg.Sources = append(s.cfg.Sources, config.LDAPSource{Name: "silent", URL: "ldap://" + silent.Addr().String(),
		BaseDN: "dc=silent,dc=example", Timeout: "2s", Schedule: "@hourly"})
	st := newStore(t)
	piedPiper(t, st)
	sy := newSyncer(st, s)
	jobs, err := sy.Jobs()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range jobs {
		names = append(names, j.Source+" "+j.Spec)
	}
	if strings.Join(names, ", ") != "hooli */5 * * * *, silent @hourly" {
		t.Fatalf("jobs = %v, want hooli and silent (endframe has no schedule)", names)
	}
	res, err := jobs[0].Run(ctxWithTimeout(t))
	if err != nil || !res.Full || res.Created != 8 {
		t.Fatalf("first scheduled run = %+v, %v; want a full sync", res, err)
	}
	if res, err := jobs[0].Run(ctxWithTimeout(t)); err != nil || res.Full || res.Read != 0 {
		t.Fatalf("second scheduled run = %+v, %v; want an idle incremental sync", res, err)
	}

	first := make(chan error, 1)
	go func() {
		_, err := jobs[1].Run(ctxWithTimeout(t))
		first <- err
	}()
	// Once the first run has connected, the silent silo holds it until its timeout; a run
	// started meanwhile is skipped, not queued.
	<-accepted
	if _, second := jobs[1].Run(ctxWithTimeout(t)); !errors.Is(second, ldapsync.ErrBusy) {
		t.Errorf("overlapping run = %v, want ErrBusy", second)
	}
	if err := <-first; err == nil || errors.Is(err, ldapsync.ErrBusy) {
		t.Errorf("run against the silent silo = %v, want its timeout", err)
	}

	bad := &ldapsync.Syncer{Store: st, Config: config.LDAP{Sources: []config.LDAPSource{{Name: "x", Schedule: "often"}}}}
	if _, err := bad.Jobs(); err == nil || !strings.Contains(err.Error(), `schedule "often"`) {
		t.Errorf("Jobs with a bad schedule = %v", err)
	}
}
