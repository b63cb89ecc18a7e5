package authntest

import (
	"context"
	"fmt"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// AddVirtualAuthenticator gives the browser tab a simulated security key (CTAP2, user
// verification and presence always succeed), so WebAuthn ceremonies complete without hardware.
func AddVirtualAuthenticator(ctx context.Context) error {
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return fmt.Errorf("enable webauthn: %w", err)
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
				Transport: webauthn.AuthenticatorTransportUsb, HasResidentKey: true, HasUserVerification: true,
				IsUserVerified: true, AutomaticPresenceSimulation: true}})
		if err != nil {
			return fmt.Errorf("add virtual authenticator: %w", err)
		}
		return nil
	}))
}

// BrowserAddKey registers the tab's authenticator as a security key of the signed-in person on
// base's /mfa/keys page, and waits until the page lists it.
func BrowserAddKey(ctx context.Context, base string) error {
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	err := chromedp.Do(sctx,
		chromedp.Navigate(base+"/mfa/keys"),
		chromedp.WaitVisible(chromedp.ID("webauthn-register")),
		chromedp.Click(chromedp.ID("webauthn-register")),
		chromedp.WaitVisible(chromedp.CSS("ul#keys li")),
	)
	if err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("webauthn-status")))
		return fmt.Errorf("add security key in browser (page says %q): %w", status, err)
	}
	return nil
}

// BrowserSignInWithKey opens url, signs in with login and password, and answers the second
// factor with the tab's security key; the browser ends where sign-in leads.
func BrowserSignInWithKey(ctx context.Context, url, login, password string) error {
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	err := chromedp.Do(sctx, passwordStep(url, login, password,
		chromedp.WaitVisible(chromedp.ID("webauthn-login")),
		chromedp.Click(chromedp.ID("webauthn-login")),
	)...)
	if err == nil {
		err = waitLeave(sctx, "/mfa/")
	}
	if err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("webauthn-status")))
		return fmt.Errorf("security-key sign-in in browser (page says %q): %w", status, err)
	}
	return nil
}
