package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/tenure-id/tenure/pkg/authn"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/idp"
	"github.com/tenure-id/tenure/pkg/policy"
)

// defaultAccessRefresh bounds how stale the IdP's view of who may use which app can be.
const defaultAccessRefresh = 30 * time.Second

// samlIdP builds the SAML IdP served under /saml/, or returns nil (with a log line saying why)
// when the access policy cannot be loaded: without it nobody could be let in anyway.
// Sign-out at /logout then propagates to the applications of the session (single logout).
func (e *env) samlIdP(ctx context.Context, s *sqlstore.Store, sessions *authn.Manager, listen string, obs idp.Observer) (http.Handler, error) {
	c := e.cfg.IdP
	base, err := url.Parse(firstNonEmpty(c.BaseURL, "http://"+listen))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("idp.base_url %q: not an absolute URL", c.BaseURL)
	}
	dir := e.policyDir("")
	set, err := policy.LoadDir(dir)
	if err != nil {
		e.logger.Warn("SAML IdP off: the access policy does not load", "dir", dir, "err", err)
		return nil, nil
	}
	keys, err := idp.LoadKeys(ctx, c, s, base.Hostname())
	if err != nil {
		return nil, err
	}
	if keys.Generated {
		e.logger.Info("SAML IdP signs with the key pair it generated and keeps in the database; set idp.key_file and idp.cert_file to use your own")
	}
	refresh := c.AccessRefresh
	if refresh == 0 {
		refresh = defaultAccessRefresh
	}
	access := &idp.PolicyAccess{Resolver: policy.NewResolver(set), MaxAge: refresh, Clock: e.clock,
		Load: func(ctx context.Context, now time.Time) (*policy.Snapshot, error) {
			snap, _, err := loadSnapshot(ctx, s, now)
			return snap, err
		}}
	p, err := idp.New(idp.Config{BaseURL: base, EntityID: c.EntityID, Key: keys.Key, Cert: keys.Cert, NextCert: keys.NextCert,
		NameIDKey: keys.NameIDKey, AssertionLifetime: c.AssertionLifetime, Sessions: sessions, People: s,
		ServiceProviders: s, Access: access, Audit: s, Parking: s, Replay: s, Participants: s, Logger: e.logger, Observer: obs})
	if err != nil {
		return nil, err
	}
	sessions.SetAppSignOut(p)
	e.logger.Info("SAML IdP on", "entity_id", p.EntityID(), "metadata", base.JoinPath("/saml/metadata").String())
	return p.Handler(), nil
}
