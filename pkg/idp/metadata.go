package idp

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/crewjam/saml"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// MetadataError says what is wrong with a service provider's metadata document.
type MetadataError struct {
	Line   int // 0 when the problem is not at one line
	Reason string
}

func (e *MetadataError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("service provider metadata, line %d: %s", e.Line, e.Reason)
	}
	return "service provider metadata: " + e.Reason
}

// ParseSPMetadata reads a service provider's metadata: one EntityDescriptor (alone or as the
// only entity of an EntitiesDescriptor) with an SP SSO descriptor and at least one assertion
// consumer service the IdP can post a response to.
func ParseSPMetadata(data []byte) (*saml.EntityDescriptor, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &MetadataError{Reason: "the document is empty"}
	}
	if err := wellFormed(data); err != nil {
		return nil, err
	}
	var root struct{ XMLName xml.Name }
	_ = xml.Unmarshal(data, &root)
	ed := &saml.EntityDescriptor{}
	switch root.XMLName.Local {
	case "EntityDescriptor":
		if err := xml.Unmarshal(data, ed); err != nil { //nolint:gosec // parsed for registration; checked well-formed above
			return nil, &MetadataError{Reason: err.Error()}
		}
	case "EntitiesDescriptor":
		var eds saml.EntitiesDescriptor
		if err := xml.Unmarshal(data, &eds); err != nil { //nolint:gosec // as above
			return nil, &MetadataError{Reason: err.Error()}
		}
		if len(eds.EntityDescriptors) != 1 {
			return nil, &MetadataError{Reason: fmt.Sprintf("an EntitiesDescriptor with %d entities; register one service provider at a time", len(eds.EntityDescriptors))}
		}
		*ed = eds.EntityDescriptors[0]
	default:
		return nil, &MetadataError{Line: 1, Reason: fmt.Sprintf("the root element is <%s>, not <EntityDescriptor> (namespace urn:oasis:names:tc:SAML:2.0:metadata)", root.XMLName.Local)}
	}
	if strings.TrimSpace(ed.EntityID) == "" {
		return nil, &MetadataError{Reason: "the EntityDescriptor has no entityID"}
	}
	if len(ed.SPSSODescriptors) == 0 {
		return nil, &MetadataError{Reason: fmt.Sprintf("entity %s has no SPSSODescriptor: this is not a service provider's metadata", ed.EntityID)}
	}
	usable, total := 0, 0
	for _, d := range ed.SPSSODescriptors {
		for _, acs := range d.AssertionConsumerServices {
			total++
			u, err := url.Parse(acs.Location)
			if (acs.Binding == saml.HTTPPostBinding || acs.Binding == saml.HTTPPostSimpleSignBinding) && err == nil &&
				(u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
				usable++
			}
		}
	}
	switch {
	case total == 0:
		return nil, &MetadataError{Reason: fmt.Sprintf("entity %s has no AssertionConsumerService", ed.EntityID)}
	case usable == 0:
		return nil, &MetadataError{Reason: fmt.Sprintf("entity %s has no AssertionConsumerService with the HTTP-POST binding at an http(s) URL", ed.EntityID)}
	}
	return ed, nil
}

// wellFormed reports the first XML syntax error with its line.
func wellFormed(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return &MetadataError{Line: se.Line, Reason: "not well-formed XML: " + se.Msg}
		}
		if err != nil {
			line, _ := dec.InputPos()
			return &MetadataError{Line: line, Reason: "not well-formed XML: " + err.Error()}
		}
	}
}

// FetchSPMetadata reads metadata from an http(s) URL, giving up after timeout. Other schemes
// are refused: a file:// or gopher:// fetch on the server's behalf is not what "add a service
// provider" means.
func FetchSPMetadata(ctx context.Context, rawURL string, timeout time.Duration) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("metadata URL %q: only http and https URLs are fetched", rawURL)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch metadata %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch metadata %s: HTTP %s", u.Redacted(), resp.Status)
	}
	const max = 1 << 20
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("fetch metadata %s: %w", u.Redacted(), err)
	}
	if len(data) > max {
		return nil, fmt.Errorf("fetch metadata %s: larger than 1 MiB", u.Redacted())
	}
	return data, nil
}

// spCache keeps parsed metadata by entity ID and version, so a sign-in costs one registry
// read and no XML parse.
type spCache struct {
	mu   sync.Mutex
	m    map[string]cachedSP
	rows map[string]cachedRow
}

type cachedRow struct {
	sp  directory.SAMLServiceProvider
	err error
	at  time.Time
}

type cachedSP struct {
	version int64
	ed      *saml.EntityDescriptor
}

func (c *spCache) parsed(sp directory.SAMLServiceProvider) (*saml.EntityDescriptor, error) {
	c.mu.Lock()
	got, ok := c.m[sp.EntityID]
	c.mu.Unlock()
	if ok && got.version == sp.Version {
		return got.ed, nil
	}
	ed, err := ParseSPMetadata([]byte(sp.Metadata))
	if err != nil {
		return nil, err
	}
	if ed.EntityID != sp.EntityID {
		return nil, fmt.Errorf("registered as %s but its metadata says %s", sp.EntityID, ed.EntityID)
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedSP{}
	}
	c.m[sp.EntityID] = cachedSP{version: sp.Version, ed: ed}
	c.mu.Unlock()
	return ed, nil
}

// registryTTL is how long a registry read is reused: `tenure sp add|remove` runs in another
// process, so a change reaches a running server within this long.
const registryTTL = 5 * time.Second

// lookup reads the registry entry, reusing a read younger than registryTTL.
func (c *spCache) lookup(ctx context.Context, src ServiceProviders, entityID string, now time.Time) (directory.SAMLServiceProvider, error) {
	c.mu.Lock()
	got, ok := c.rows[entityID]
	c.mu.Unlock()
	if ok && now.Sub(got.at) < registryTTL && now.Sub(got.at) >= 0 {
		return got.sp, got.err
	}
	sp, err := src.GetSAMLServiceProvider(ctx, entityID)
	if err != nil && !errors.Is(err, identity.ErrNotFound) {
		return sp, err // failures are not cached
	}
	c.mu.Lock()
	if c.rows == nil {
		c.rows = map[string]cachedRow{}
	}
	if len(c.rows) > 10000 { // unknown entity IDs are cached too; bound what strangers can fill
		clear(c.rows)
	}
	c.rows[entityID] = cachedRow{sp: sp, err: err, at: now}
	c.mu.Unlock()
	return sp, err
}

// GetServiceProvider implements saml.ServiceProviderProvider over the registry.
func (p *IdP) GetServiceProvider(r *http.Request, entityID string) (*saml.EntityDescriptor, error) {
	sp, err := p.sps.lookup(r.Context(), p.cfg.ServiceProviders, entityID, p.now())
	if errors.Is(err, identity.ErrNotFound) {
		return nil, os.ErrNotExist
	}
	if err != nil {
		return nil, err
	}
	ed, err := p.sps.parsed(sp)
	if err != nil {
		return nil, fmt.Errorf("service provider %s: %w", entityID, err)
	}
	stateOf(r).sp = &sp
	// A copy, so nothing crewjam does to it reaches the cache.
	out := *ed
	return &out, nil
}

// serviceProvider is the registry entry of the request's service provider.
func (p *IdP) serviceProvider(r *http.Request, entityID string) (directory.SAMLServiceProvider, error) {
	if sp := stateOf(r).sp; sp != nil && sp.EntityID == entityID {
		return *sp, nil
	}
	sp, err := p.sps.lookup(r.Context(), p.cfg.ServiceProviders, entityID, p.now())
	if err != nil {
		return directory.SAMLServiceProvider{}, err
	}
	stateOf(r).sp = &sp
	return sp, nil
}
