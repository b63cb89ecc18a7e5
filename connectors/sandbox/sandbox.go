// Package sandbox runs a faithful fake of every app the sample company provisions on one
// loopback HTTP server, and says how to point Tenure's connectors at them. `tenure demo` uses it
// so a newcomer sees real provisioning traffic without any SaaS account; tests and benchmarks
// use it as the apps' stand-ins.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
)

// Spec names one app to fake: its name in the policy catalogue, its connector type and the
// entitlements the catalogue offers in it (teams and groups some fakes must hold beforehand).
type Spec struct {
	Name         string
	Connector    string
	Entitlements []string
	// Roles are the app's roles from the catalogue (HubSpot's permission sets must exist).
	Roles []string
	// OrgUnits are the org paths people may be placed in ("Pied Piper/Engineering/Web"); the
	// Google fake needs its org units to exist, as the real service does.
	OrgUnits []string
}

// App is one running fake.
type App struct {
	Name      string
	Connector string
	// URL is where the fake answers (the connector's base_url).
	URL string
	// Config points the app's connector at the fake; its credential is in Sandbox.Getenv.
	Config config.AppConfig
	// Fake is the fake itself (*githubfake.Server, *scimtarget.Target, ...), for inspection.
	Fake any
}

// fake builds one app's fake (for inspection), its handler and the connector configuration
// that reaches it; its base_url, if any, is a path below the fake's address ("/scim/v2").
type fake func(s Spec, cred *credentials, domain string) (any, http.Handler, config.AppConfig, error)

// SampleDomain is the sample company's email domain.
const SampleDomain = "piedpiper.example"

// credentials are made per app at start. A fake may replace secret with what its connector
// must read instead of a bearer token (Google's service-account key file).
type credentials struct {
	secret string
	url    string // the fake's own URL, for fakes that serve their own token endpoint
}

var fakes = map[string]fake{}

// Supported reports whether the sandbox can fake apps of connector type typ.
func Supported(typ string) bool { _, ok := fakes[typ]; return ok }

// Sandbox is a running set of fakes.
type Sandbox struct {
	URL  string
	apps map[string]*App
	env  map[string]string
	srv  *http.Server
	done chan error
}

// Options tune Start.
type Options struct {
	// Listen is the loopback address to serve on; 127.0.0.1:0 (a free port) when empty.
	Listen string
	// Domain is the company's email domain (piedpiper.example when empty).
	Domain string
}

// Start serves a fake for every spec whose connector type the sandbox knows, each under
// URL/APP/. Specs of unknown types are an error naming them, so a demo never silently skips an
// app.
func Start(specs []Spec, opts Options) (*Sandbox, error) {
	var unknown []string
	for _, s := range specs {
		if !Supported(s.Connector) {
			unknown = append(unknown, s.Name+" ("+s.Connector+")")
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("sandbox: no fake for %s (fakes exist for %s)", strings.Join(unknown, ", "),
			strings.Join(slices.Sorted(maps.Keys(fakes)), ", "))
	}
	domain := opts.Domain
	if domain == "" {
		domain = SampleDomain
	}
	addr := opts.Listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	sb := &Sandbox{URL: "http://" + ln.Addr().String(), apps: map[string]*App{}, env: map[string]string{}, done: make(chan error, 1)}
	mux := http.NewServeMux()
	for _, s := range specs {
		token, err := randomToken()
		if err != nil {
			ln.Close()
			return nil, err
		}
		appURL := sb.URL + "/" + s.Name
		cred := &credentials{secret: token, url: appURL}
		obj, h, cfg, err := fakes[s.Connector](s, cred, domain)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("sandbox: app %s: %w", s.Name, err)
		}
		cfg.BaseURL = appURL + cfg.BaseURL // a fake may name the API's root below its own address
		cfg.TokenEnv = EnvName(s.Name)
		sb.env[cfg.TokenEnv] = cred.secret
		mux.Handle("/"+s.Name+"/", http.StripPrefix("/"+s.Name, h))
		sb.apps[s.Name] = &App{Name: s.Name, Connector: s.Connector, URL: appURL, Config: cfg, Fake: obj}
	}
	sb.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { sb.done <- sb.srv.Serve(ln) }()
	return sb, nil
}

// EnvName is the environment variable the sandbox hands an app's token in.
func EnvName(app string) string {
	return "TENURE_SANDBOX_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(app)) + "_TOKEN"
}

// Getenv answers the connectors' credential lookups, falling back to next for other names.
func (sb *Sandbox) Getenv(next func(string) string) func(string) string {
	return func(k string) string {
		if v, ok := sb.env[k]; ok {
			return v
		}
		if next != nil {
			return next(k)
		}
		return ""
	}
}

// Apps returns the running fakes by app name.
func (sb *Sandbox) Apps() map[string]*App { return sb.apps }

// Configs returns the provisioning configuration of every faked app.
func (sb *Sandbox) Configs() map[string]config.AppConfig {
	out := make(map[string]config.AppConfig, len(sb.apps))
	for name, a := range sb.apps {
		out[name] = a.Config
	}
	return out
}

// Close stops the server.
func (sb *Sandbox) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := sb.srv.Shutdown(ctx)
	if serr := <-sb.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("sandbox: token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// entitlementNames returns the names of the spec's entitlements of one kind.
func (s Spec) entitlementNames(kind string) []string {
	var out []string
	for _, e := range s.Entitlements {
		if k, name, ok := strings.Cut(e, ":"); ok && k == kind {
			out = append(out, name)
		}
	}
	return out
}
