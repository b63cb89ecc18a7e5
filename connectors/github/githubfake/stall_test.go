package githubfake_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tenure-id/tenure/connectors/github/githubfake"
	"github.com/tenure-id/tenure/connectors/internal/fakehttp/fakehttptest"
)

func TestAbandonedWriteDuringStallNeverLands(t *testing.T) {
	fake := githubfake.New(githubfake.Options{Enterprise: "acme", Token: token})
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	body, _ := json.Marshal(user(1))
	fakehttptest.CheckAbandoned(t, fakehttptest.Write{
		Stall: fake.Stall, Reset: fake.Reset,
		Method: http.MethodPost, URL: srv.URL + "/scim/v2/enterprises/acme/Users", Body: string(body),
		Header: http.Header{"Authorization": {"Bearer " + token}, "User-Agent": {"githubfake-test"}},
		Landed: func() bool { return len(fake.Users()) > 0 },
	})
}
