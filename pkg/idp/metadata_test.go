package idp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/idp"
)

func TestParseSPMetadataErrors(t *testing.T) {
	const head = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.test">`
	cases := []struct {
		name, doc string
		line      int
		want      string
	}{
		{"empty", "  \n", 0, "empty"},
		{"unparseable", "<EntityDescriptor>\n  <SPSSODescriptor>\n</EntityDescriptor>", 3, "not well-formed XML"},
		{"not metadata", "<html><body/></html>", 1, "root element is <html>"},
		{"no entity id", `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><SPSSODescriptor/></EntityDescriptor>`, 0, "no entityID"},
		{"an IdP's metadata", head + `<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`, 0, "no SPSSODescriptor"},
		{"no ACS", head + `<SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`, 0, "no AssertionConsumerService"},
		{"only an artifact ACS", head + `<SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
			`<AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://sp.test/acs" index="0"/>` +
			`</SPSSODescriptor></EntityDescriptor>`, 0, "HTTP-POST binding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := idp.ParseSPMetadata([]byte(tc.doc))
			var me *idp.MetadataError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want a *MetadataError", err)
			}
			if me.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q (line %d), want line %d and %q", err, me.Line, tc.line, tc.want)
			}
		})
	}
	ed, err := idp.ParseSPMetadata([]byte(head + `<SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.test/acs" index="0"/>` +
		`</SPSSODescriptor></EntityDescriptor>`))
	if err != nil || ed.EntityID != "https://sp.test" {
		t.Errorf("valid metadata: %v, %v", ed, err)
	}
}

func TestFetchSPMetadata(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		case "/missing":
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("<EntityDescriptor/>"))
	}))
	defer srv.Close()
	ctx := context.Background()
	if b, err := idp.FetchSPMetadata(ctx, srv.URL+"/ok", time.Second); err != nil || string(b) != "<EntityDescriptor/>" {
		t.Errorf("fetch: %q, %v", b, err)
	}
	for _, tc := range []struct{ url, want string }{
		{"file:///etc/passwd", "only http and https"},
		{srv.URL + "/missing", "404"},
		{srv.URL + "/slow", "deadline exceeded"},
	} {
		_, err := idp.FetchSPMetadata(ctx, tc.url, 100*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("fetch %s: %v, want an error with %q", tc.url, err, tc.want)
		}
	}
}
