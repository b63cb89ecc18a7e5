// Package server is Tenure's HTTP front: health and readiness, sign-in (login, MFA,
// activation), the SAML identity provider, the SCIM 2.0 service provider under /scim/v2, the
// HR webhook and the admin REST API under /api/v1, behind common middleware; it shuts down
// gracefully so in-flight requests finish.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tenure-id/tenure/pkg/clientip"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Pinger is what readiness needs from the database.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config holds the server's dependencies.
type Config struct {
	DB      Pinger
	Logger  *slog.Logger
	Version string
	// ReadyTimeout bounds the database check behind /readyz; 2 s when zero.
	ReadyTimeout time.Duration
	// HREvents, when set, serves POST /api/v1/hr/events (see NewHRWebhook).
	HREvents http.Handler
	// Auth, when set, serves sign-in: /login, /logout, /mfa/ and /activate/ (authn.Manager.Handler).
	Auth http.Handler
	// SAML, when set, serves the SAML identity provider under /saml/ (idp.IdP.Handler).
	SAML http.Handler
	// Metrics, when set, serves GET /metrics (metrics.Registry.Handler).
	Metrics http.Handler
	// Observer, when set, hears every request served, by route pattern.
	Observer HTTPObserver
	// Proxies are the reverse proxies trusted to name the visitor (clientip.From).
	Proxies clientip.Trust
	// SCIM, when set, serves the SCIM 2.0 service provider under /scim/v2/ (NewSCIM).
	SCIM http.Handler
	// Admin, when set, serves the admin REST API under /api/v1/ (NewAdminAPI); the HR
	// webhook's route stays its own.
	Admin http.Handler
}

// New returns the root handler.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 2 * time.Second
	}
	mux := http.NewServeMux()
	// Liveness says only that the process serves HTTP: restarting it would not fix a database
	// outage, so the database is checked by readiness alone.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": cfg.Version})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), cfg.ReadyTimeout)
		defer cancel()
		if err := cfg.DB.Ping(ctx); err != nil {
			cfg.Logger.Warn("not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "database": "ok"})
	})
	if cfg.HREvents != nil {
		mux.Handle("POST /api/v1/hr/events", cfg.HREvents)
	}
	if cfg.Auth != nil {
		for _, p := range []string{"/login", "/logout", "/mfa/", "/activate/"} {
			mux.Handle(p, cfg.Auth)
		}
	}
	if cfg.SAML != nil {
		mux.Handle("/saml/", cfg.SAML)
	}
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	if cfg.SCIM != nil {
		mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", cfg.SCIM))
	}
	if cfg.Admin != nil {
		mux.Handle("/api/v1/", cfg.Admin)
	}
	return cfg.Proxies.Middleware(logRequests(cfg.Logger, cfg.Observer, mux))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's own writer (flush, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func logRequests(l *slog.Logger, obs HTTPObserver, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		l.Debug("http", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", took)
		if obs != nil {
			// The mux has set r.Pattern to the route that served the request: a label with a
			// fixed set of values, where the raw path would grow one per URL ever asked for.
			obs.HTTPRequest(routeOf(r.Pattern), methodOf(r.Method), rec.status, took)
		}
	})
}

// Serve listens on addr and serves h until ctx is done, then stops accepting connections and
// waits up to grace for in-flight requests. ready, when not nil, receives the bound address
// once the listener is open (useful with port 0).
func Serve(ctx context.Context, addr string, h http.Handler, grace time.Duration, logger *slog.Logger, ready func(net.Addr)) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("serving", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}
