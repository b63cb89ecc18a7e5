package authntest

import (
	"context"
	"fmt"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenure-id/tenure/pkg/testenv"
)

// NewBrowser starts headless Chromium for tb and returns the chromedp context its tab runs in;
// the browser stops when tb ends. Without Chromium the test is skipped loudly (failed under CI).
func NewBrowser(tb testing.TB) context.Context {
	tb.Helper()
	bin := testenv.Require(tb, "chromium")["chromium"]
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	tb.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first Run starts the browser and must not carry a timeout (it would stop the browser
	// with it); the helpers below bound each of their own steps.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		tb.Fatalf("start chromium %s: %v", bin, err)
	}
	return ctx
}

// stepTimeout bounds one page interaction.
const stepTimeout = 30 * time.Second

// BrowserActivate opens an activation link, sets password, reads the TOTP setup key from the
// page, enters its code at now() and continues past the recovery codes. The browser ends on the
// page the link's next leads to ("/" by default).
func BrowserActivate(ctx context.Context, link, password string, now func() time.Time) (secret string, err error) {
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	err = chromedp.Do(sctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.SendKeys(chromedp.ID("confirm"), password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("totp-secret")),
	)
	if err != nil {
		return "", fmt.Errorf("activate in browser: %w", err)
	}
	if secret, err = chromedp.Run(sctx, chromedp.Text(chromedp.ID("totp-secret"))); err != nil {
		return "", fmt.Errorf("read setup key in browser: %w", err)
	}
	secret = strings.TrimSpace(secret)
	code, err := Code(secret, now())
	if err != nil {
		return "", err
	}
	err = chromedp.Do(sctx,
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")),
		chromedp.Click(chromedp.ID("continue")),
	)
	if err == nil {
		err = waitLeave(sctx, "/mfa/")
	}
	if err != nil {
		return "", fmt.Errorf("enrol in browser: %w", err)
	}
	return secret, nil
}

// BrowserSignIn opens url (the login page, or any page that sends the browser there), signs in
// with login and password and the TOTP code of secret at now(); the browser ends where sign-in
// leads (the login page's next).
func BrowserSignIn(ctx context.Context, url, login, password, secret string, now func() time.Time) error {
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	err := chromedp.Do(sctx, passwordStep(url, login, password, chromedp.WaitVisible(chromedp.ID("code")))...)
	if err != nil {
		return fmt.Errorf("password step in browser: %w", err)
	}
	code, err := Code(secret, now())
	if err != nil {
		return err
	}
	err = chromedp.Do(sctx,
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Submit(chromedp.ID("code")),
	)
	if err == nil {
		err = waitLeave(sctx, "/mfa/")
	}
	if err != nil {
		return fmt.Errorf("code step in browser: %w", err)
	}
	return nil
}

// passwordStep opens url (the login page, or any page that sends the browser there) and
// submits login and password, then runs the caller's steps for the second factor it expects.
func passwordStep(url, login, password string, then ...chromedp.Action[chromedp.Void]) []chromedp.Action[chromedp.Void] {
	return append([]chromedp.Action[chromedp.Void]{
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), login),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")),
	}, then...)
}

// waitLeave waits until the tab's location is no longer under pathPrefix and the new page has
// loaded: a submitted form navigates asynchronously.
func waitLeave(ctx context.Context, pathPrefix string) error {
	for {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			return err
		}
		if u, perr := neturl.Parse(loc); perr == nil && !strings.HasPrefix(u.Path, pathPrefix) {
			return chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS("body")))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still at %s: %w", loc, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
