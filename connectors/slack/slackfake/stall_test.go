package slackfake_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tenure-id/tenure/connectors/internal/fakehttp/fakehttptest"
	"github.com/tenure-id/tenure/connectors/slack/slackfake"
)

func TestAbandonedWriteDuringStallNeverLands(t *testing.T) {
	const token = "xoxp-slackfake-test"
	fake := slackfake.New(slackfake.Options{Token: token})
	srv := httptest.NewServer(fake.Handler())
	defer srv.Close()
	fakehttptest.CheckAbandoned(t, fakehttptest.Write{
		Stall: fake.Stall, Reset: fake.Reset,
		Method: http.MethodPost, URL: srv.URL + "/scim/v2/Users",
		Body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada",
			"emails":[{"value":"ada@example.com","primary":true}]}`,
		Header: http.Header{"Authorization": {"Bearer " + token}},
		Landed: func() bool { return len(fake.Users()) > 0 },
	})
}
