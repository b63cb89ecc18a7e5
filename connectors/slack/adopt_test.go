package slack_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tenure-id/tenure/connectors/slack"
	"github.com/tenure-id/tenure/connectors/slack/slackfake"
	"github.com/tenure-id/tenure/pkg/connector"
)

// recorder sits in front of the fake: it records each request ("GET /Users?filter=…") and can
// let the next user create reach the fake but answer the client 502, as a gateway that timed
// out after the app had acted.
type recorder struct {
	next http.Handler

	mu       sync.Mutex
	reqs     []string
	lostNext bool
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	path := strings.TrimPrefix(req.URL.Path, "/scim/v2")
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+path+"?"+req.URL.Query().Get("filter"))
	lose := r.lostNext && req.Method == http.MethodPost && path == "/Users"
	if lose {
		r.lostNext = false
	}
	r.mu.Unlock()
	if lose {
		r.next.ServeHTTP(httptest.NewRecorder(), req)
		http.Error(w, "upstream timed out", http.StatusBadGateway)
		return
	}
	r.next.ServeHTTP(w, req)
}

// count returns how many recorded requests start with prefix.
func (r *recorder) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, q := range r.reqs {
		if strings.HasPrefix(q, prefix) {
			n++
		}
	}
	return n
}

func startRecorded(t *testing.T) (*slackfake.Server, *recorder, *slack.Connector) {
	t.Helper()
	fake := slackfake.New(slackfake.Options{Token: testToken})
	rec := &recorder{next: fake.Handler()}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c, err := slack.New(slack.Config{BaseURL: srv.URL + "/scim/v2", Token: testToken,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return fake, rec, c
}

// Slack cannot filter on externalId: creates adopt through an index from one listing, not by
// listing every user before each create.
func TestCreatesDoNotListEveryUserEachTime(t *testing.T) {
	fake, rec, c := startRecorded(t)
	ids := map[string]string{}
	for _, n := range []string{"ada", "bob", "cy", "dee", "eve"} {
		a := mustApply(t, c, connector.Op{Kind: connector.OpCreate, Account: acct("p-"+n, n, n+"@acme.com")})
		ids[n] = a.ID
	}
	if n := rec.count("GET /Users?"); n != 1 {
		t.Fatalf("5 creates listed the users %d times, want once (the index)", n)
	}
	// A retried create still adopts, through the index and one read of the user.
	again := mustApply(t, c, connector.Op{Kind: connector.OpCreate, Account: acct("p-cy", "cy", "cy@acme.com")})
	if again.ID != ids["cy"] || len(fake.Users()) != 5 {
		t.Fatalf("retried create gave %s with %d users, want %s adopted among 5", again.ID, len(fake.Users()), ids["cy"])
	}
	// Find by email uses Slack's documented email filter.
	f, err := c.Find(t.Context(), connector.Match{Email: "dee@acme.com"})
	if err != nil || f.ID != ids["dee"] {
		t.Fatalf("Find by email = %s, %v; want %s", f.ID, err, ids["dee"])
	}
	if n := rec.count(`GET /Users?email eq "dee@acme.com"`); n != 1 {
		t.Fatalf("Find by email sent %d email filters, want 1", n)
	}
}

// A create whose answer was lost may have landed: the retry must adopt it even when the person
// was renamed meanwhile (new userName and email, so no 409 points at it).
func TestCreateWithALostAnswerIsAdoptedOnRetry(t *testing.T) {
	fake, rec, c := startRecorded(t)
	mustApply(t, c, connector.Op{Kind: connector.OpCreate, Account: acct("p-ada", "ada", "ada@acme.com")})
	rec.mu.Lock()
	rec.lostNext = true
	rec.mu.Unlock()
	_, err := c.Apply(t.Context(), connector.Op{Kind: connector.OpCreate, Account: acct("p-bob", "bob", "bob@acme.com")})
	if !connector.Retryable(err) {
		t.Fatalf("create answered 502 = %v, want a retryable error", err)
	}
	if len(fake.Users()) != 2 {
		t.Fatal("the create did not reach the fake: the test proves nothing")
	}
	got := mustApply(t, c, connector.Op{Kind: connector.OpCreate, Account: acct("p-bob", "robert", "robert@acme.com")})
	users := fake.Users()
	if len(users) != 2 || got.ID != users[1].ID || got.UserName != "bob" {
		t.Fatalf("retry made %s (%s) with %d users, want bob's landed create %s adopted", got.ID, got.UserName, len(users), users[1].ID)
	}
}
