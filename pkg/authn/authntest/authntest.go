// Package authntest drives Tenure's sign-in pages from tests: over plain HTTP with a cookie jar
// (SignIn, Activate) or in headless Chromium (NewBrowser, BrowserActivate, BrowserSignIn), so the
// IdP's end-to-end tests can sign a person in before they ask for an assertion.
//
// TOTP codes work once per 30-second step: a test that signs the same person in twice must
// move the server's clock (and the now it passes here) on by 30 s in between.
package authntest

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// NewClient is an HTTP client with a cookie jar that follows redirects, like a browser.
func NewClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// Code is the TOTP code of secret at t.
func Code(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

var (
	inputRe  = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)
	secretRe = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
	codesRe  = regexp.MustCompile(`<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>`)
	errorRe  = regexp.MustCompile(`<p class="error" role="alert" id="form-error">([^<]*)</p>`)
)

// Hidden returns the value of the page's hidden input name ("csrf", "next").
func Hidden(page, name string) string {
	for _, m := range inputRe.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			return html.UnescapeString(m[2])
		}
	}
	return ""
}

// TOTPSecret is the setup key shown on the enrolment page.
func TOTPSecret(page string) string {
	if m := secretRe.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	return ""
}

// RecoveryCodes are the codes shown after enrolment.
func RecoveryCodes(page string) []string {
	var out []string
	for _, m := range codesRe.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// PageError is the error message a page shows, "" when none.
func PageError(page string) string {
	if m := errorRe.FindStringSubmatch(page); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

// Page is a response read whole.
type Page struct {
	Status int
	URL    *url.URL // after redirects
	Body   string
	Header http.Header
}

// Get fetches u.
func Get(ctx context.Context, c *http.Client, u string) (Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Page{}, err
	}
	return do(c, req)
}

// Post submits form to u.
func Post(ctx context.Context, c *http.Client, u string, form url.Values) (Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return Page{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(c, req)
}

func do(c *http.Client, req *http.Request) (Page, error) {
	resp, err := c.Do(req)
	if err != nil {
		return Page{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Page{Status: resp.StatusCode, URL: resp.Request.URL, Body: string(b), Header: resp.Header}, err
}

// Submit posts the form of page (its csrf and next fields plus fields) to the path action on
// the page's server.
func Submit(ctx context.Context, c *http.Client, from Page, action string, fields url.Values) (Page, error) {
	form := url.Values{"csrf": {Hidden(from.Body, "csrf")}, "next": {Hidden(from.Body, "next")}}
	for k, v := range fields {
		form[k] = v
	}
	target := from.URL.ResolveReference(&url.URL{Path: action})
	return Post(ctx, c, target.String(), form)
}

// ErrStep is a sign-in step that did not land where it should; the error names the page.
var ErrStep = errors.New("authntest: sign-in step failed")

func expect(p Page, path string) error {
	if p.URL.Path != path {
		return fmt.Errorf("%w: at %s (HTTP %d, message %q), want %s", ErrStep, p.URL.Path, p.Status, PageError(p.Body), path)
	}
	return nil
}

// SignIn signs login in at base (http://host:port) and follows on to next, returning the page
// next shows. secret is the person's TOTP secret; the code is computed at now.
func SignIn(ctx context.Context, c *http.Client, base, login, password, secret string, now time.Time, next string) (Page, error) {
	p, err := Get(ctx, c, base+"/login?next="+url.QueryEscape(next))
	if err != nil {
		return p, err
	}
	if p, err = Submit(ctx, c, p, "/login", url.Values{"login": {login}, "password": {password}}); err != nil {
		return p, err
	}
	if err := expect(p, "/mfa/verify"); err != nil {
		return p, err
	}
	code, err := Code(secret, now)
	if err != nil {
		return p, err
	}
	return Submit(ctx, c, p, "/mfa/verify", url.Values{"code": {code}})
}

// Activation is what a finished activation hands back.
type Activation struct {
	Secret        string
	RecoveryCodes []string
	Page          Page // the recovery-codes page
}

// Activate opens an activation link, sets password and enrols TOTP with a code computed at now.
func Activate(ctx context.Context, c *http.Client, link, password string, now time.Time) (Activation, error) {
	p, err := Get(ctx, c, link)
	if err != nil {
		return Activation{}, err
	}
	if p.Status != http.StatusOK {
		return Activation{Page: p}, fmt.Errorf("%w: activation link answered HTTP %d", ErrStep, p.Status)
	}
	p, err = Submit(ctx, c, p, p.URL.Path, url.Values{"password": {password}, "confirm": {password}})
	if err != nil {
		return Activation{}, err
	}
	if err := expect(p, "/mfa/enrol"); err != nil {
		return Activation{Page: p}, err
	}
	secret := TOTPSecret(p.Body)
	code, err := Code(secret, now)
	if err != nil {
		return Activation{Page: p}, err
	}
	if p, err = Submit(ctx, c, p, "/mfa/enrol", url.Values{"code": {code}}); err != nil {
		return Activation{}, err
	}
	codes := RecoveryCodes(p.Body)
	if p.Status != http.StatusOK || len(codes) == 0 {
		return Activation{Page: p}, fmt.Errorf("%w: enrolment answered HTTP %d (message %q)", ErrStep, p.Status, PageError(p.Body))
	}
	return Activation{Secret: secret, RecoveryCodes: codes, Page: p}, nil
}
