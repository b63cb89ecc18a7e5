package idp

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html"
	"html/template"
	"io"
	"net/http"
	"strings"

	"github.com/crewjam/saml"
)

// formWriter posts the response to the service provider with an auto-submitting form, as
// crewjam's default writer does, without html/template: the base64 response needs no escaping
// and is most of the page, so building the page directly saves the template's scan of it on
// every sign-in. Without JavaScript the Continue button submits the form.
type formWriter struct{ obs Observer }

func (f formWriter) WriteResponse(w http.ResponseWriter, req *saml.IdpAuthnRequest) error {
	err := f.write(w, req)
	if err == nil {
		f.obs.SAMLResponse(req.ServiceProviderMetadata.EntityID, SAMLIssued)
	}
	return err
}

func (formWriter) write(w http.ResponseWriter, req *saml.IdpAuthnRequest) error {
	if req.ACSEndpoint != nil && req.ACSEndpoint.Binding == saml.HTTPPostSimpleSignBinding {
		return req.WriteResponse(w)
	}
	form, err := req.PostBinding()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.Grow(len(form.SAMLResponse) + len(form.RelayState) + 700)
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Continue</title></head><body>`)
	b.WriteString(`<form method="post" action="`)
	b.WriteString(html.EscapeString(form.URL))
	b.WriteString(`" id="SAMLForm"><input type="hidden" name="SAMLResponse" value="`)
	b.WriteString(form.SAMLResponse) // base64: nothing to escape
	b.WriteString(`"><input type="hidden" name="RelayState" value="`)
	b.WriteString(html.EscapeString(form.RelayState))
	b.WriteString(`"><noscript><p>Your browser does not run JavaScript: press Continue to sign in.</p></noscript>`)
	b.WriteString(`<input id="SAMLSubmitButton" type="submit" value="Continue"></form>`)
	b.WriteString(`<script>` + autoSubmit + `</script>`)
	b.WriteString(`</body></html>`)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Security-Policy", formPolicy)
	_, err = io.WriteString(w, b.String())
	return err
}

// autoSubmit is the page's one script. The content policy allows it by its hash and nothing
// else, so the page that carries a signed assertion can run no other script, nor be framed.
// form-action is left open: the service provider's ACS may redirect elsewhere after the post,
// and browsers hold redirects to it.
const autoSubmit = `document.getElementById('SAMLSubmitButton').style.visibility='hidden';document.getElementById('SAMLForm').submit();`

var formPolicy = func() string {
	sum := sha256.Sum256([]byte(autoSubmit))
	return "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'"
}()

// The single logout pages crewjam writes (a LogoutRequest on its way to each service provider,
// the LogoutResponse to the one that asked) use the same form and script, so the same policy
// covers them.
var (
	logoutRequestForm = template.Must(template.New("logout-request").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Continue</title></head><body>` +
		`<form method="post" action="{{.URL}}" id="SAMLForm"><input type="hidden" name="SAMLRequest" value="{{.SAMLRequest}}">` +
		`<noscript><p>Your browser does not run JavaScript: press Continue.</p></noscript>` +
		`<input id="SAMLSubmitButton" type="submit" value="Continue"></form><script>` + autoSubmit + `</script></body></html>`))
	logoutResponseForm = template.Must(template.New("logout-response").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Continue</title></head><body>` +
		`<form method="post" action="{{.URL}}" id="SAMLForm"><input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}">` +
		`{{if .RelayState}}<input type="hidden" name="RelayState" value="{{.RelayState}}">{{end}}` +
		`<noscript><p>Your browser does not run JavaScript: press Continue.</p></noscript>` +
		`<input id="SAMLSubmitButton" type="submit" value="Continue"></form><script>` + autoSubmit + `</script></body></html>`))
)

var errUnsendable = errors.New("idp: the IdP posts responses only (HTTP-POST, HTTP-POST-SimpleSign)")

// sendable reports whether a response can be posted to the endpoint; crewjam checks this
// itself only for its own writer.
func sendable(ep *saml.IndexedEndpoint) bool {
	return ep != nil && (ep.Binding == saml.HTTPPostBinding || ep.Binding == saml.HTTPPostSimpleSignBinding)
}
