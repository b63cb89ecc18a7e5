package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/hr"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/lifecycle"
)

// HRSubmitter is what the HR webhook needs from the lifecycle engine.
type HRSubmitter interface {
	Submit(ctx context.Context, events []identity.Event, opt lifecycle.SubmitOptions) (lifecycle.Report, error)
	// CurrentData lets a push name only the fields that change.
	CurrentData(ctx context.Context, employeeID string) (hr.Data, bool, error)
}

// Header names of the signed form of the webhook.
const (
	HRSignatureHeader = "X-Tenure-Signature" // "sha256=" + hex HMAC-SHA256 over "TIMESTAMP.BODY"
	HRTimestampHeader = "X-Tenure-Timestamp" // Unix seconds; signed, so a captured request expires
)

// HRWebhookConfig configures POST /api/v1/hr/events. At least one of Token and Secret must be
// set: the endpoint changes who may sign in, so it is never open.
type HRWebhookConfig struct {
	Engine HRSubmitter
	Token  string // accepted as "Authorization: Bearer TOKEN"
	Secret string // HMAC-SHA256 key for the signature header
	Clock  func() time.Time
	// MaxSkew is how old (or early) a signed request may be; 5 minutes when zero.
	MaxSkew time.Duration
	Logger  *slog.Logger
	// Observer hears each push's result (metrics); nothing when nil.
	Observer HRObserver
}

const maxHRBody = 1 << 20

// NewHRWebhook returns the handler, or an error when it would accept unauthenticated pushes.
func NewHRWebhook(cfg HRWebhookConfig) (http.Handler, error) {
	if cfg.Token == "" && cfg.Secret == "" {
		return nil, errors.New("hr webhook: set a bearer token or an HMAC secret (hr.webhook.token_env / secret_env)")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.MaxSkew == 0 {
		cfg.MaxSkew = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopHRObserver{}
	}
	obs := cfg.Observer
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHRBody))
		if err != nil {
			obs.HRPush(HRPushInvalid)
			writeError(w, http.StatusRequestEntityTooLarge, "body over 1 MiB or unreadable")
			return
		}
		how, err := cfg.authenticate(r, body)
		if err != nil {
			obs.HRPush(HRPushUnauthorized)
			w.Header().Set("WWW-Authenticate", `Bearer realm="tenure-hr"`)
			writeError(w, http.StatusUnauthorized, err.Error())
			return
		}
		events, err := cfg.decode(r.Context(), body)
		var se storeError
		switch {
		case errors.As(err, &se):
			// The sender did nothing wrong: say so, and let it retry.
			obs.HRPush(HRPushError)
			cfg.Logger.Error("hr webhook: reading the directory", "err", se.err)
			writeError(w, http.StatusInternalServerError, "could not read the directory; retry later")
			return
		case err != nil:
			obs.HRPush(HRPushInvalid)
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		ctx := audit.WithActor(r.Context(), "hr:webhook:"+how)
		rep, err := cfg.Engine.Submit(ctx, events, lifecycle.SubmitOptions{})
		var held *lifecycle.HeldError
		switch {
		case errors.As(err, &held):
			obs.HRPush(HRPushHeld)
			writeJSON(w, http.StatusConflict, map[string]any{"error": err.Error(), "held": held})
			return
		case errors.Is(err, identity.ErrInvalid):
			obs.HRPush(HRPushInvalid)
			writeError(w, http.StatusBadRequest, err.Error())
			return
		case err != nil:
			obs.HRPush(HRPushError)
			cfg.Logger.Error("hr webhook", "err", err)
			writeError(w, http.StatusInternalServerError, "could not record the events; retry later")
			return
		}
		status, result := http.StatusAccepted, HRPushAccepted
		switch {
		case rep.Duplicates == len(rep.Outcomes):
			status, result = http.StatusConflict, HRPushReplay // every event was already received
		case rep.Rejected > 0:
			status, result = http.StatusUnprocessableEntity, HRPushPartial
		}
		obs.HRPush(result)
		for outcome, n := range map[string]int{HREventsApplied: rep.Applied, HREventsScheduled: rep.Scheduled,
			HREventsRejected: rep.Rejected, HREventsDuplicate: rep.Duplicates} {
			if n > 0 {
				obs.HREvents(outcome, n)
			}
		}
		writeJSON(w, status, rep)
	}), nil
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// authenticate accepts the bearer token or a fresh, valid signature, and says which.
func (cfg HRWebhookConfig) authenticate(r *http.Request, body []byte) (string, error) {
	if auth := r.Header.Get("Authorization"); auth != "" && cfg.Token != "" {
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(cfg.Token)) == 1 {
			return "token", nil
		}
		return "", errors.New("bad bearer token")
	}
	sig := r.Header.Get(HRSignatureHeader)
	if sig == "" || cfg.Secret == "" {
		return "", errors.New("authentication required: a bearer token or a signed request")
	}
	ts, err := strconv.ParseInt(r.Header.Get(HRTimestampHeader), 10, 64)
	if err != nil {
		return "", fmt.Errorf("%s: Unix seconds required with a signature", HRTimestampHeader)
	}
	got, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
	if err != nil || !strings.HasPrefix(sig, "sha256=") {
		return "", fmt.Errorf("%s: expected sha256=HEX", HRSignatureHeader)
	}
	if !hmac.Equal(got, SignHR(cfg.Secret, ts, body)) {
		return "", errors.New("bad signature")
	}
	// Checked after the signature, so an attacker cannot learn the clock from the error.
	if skew := cfg.Clock().Sub(time.Unix(ts, 0)); skew > cfg.MaxSkew || skew < -cfg.MaxSkew {
		return "", fmt.Errorf("signed request is %s away from now (at most %s): replay rejected", skew.Round(time.Second), cfg.MaxSkew)
	}
	return "hmac", nil
}

// SignHR is the signature a sender puts in X-Tenure-Signature (after "sha256=", hex-encoded).
func SignHR(secret string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", ts)
	m.Write(body)
	return m.Sum(nil)
}

// storeError marks a failure to read the directory while decoding, which is the server's
// problem (500), not the sender's (400).
type storeError struct{ err error }

func (e storeError) Error() string { return e.err.Error() }
func (e storeError) Unwrap() error { return e.err }

// decode reads the pushed events, naming the bad field of the bad event.
func (cfg HRWebhookConfig) decode(ctx context.Context, body []byte) ([]identity.Event, error) {
	pushed, err := hr.DecodePushed(body)
	if err != nil {
		return nil, err
	}
	current := func(emp string) (hr.Data, error) {
		d, _, err := cfg.Engine.CurrentData(ctx, emp)
		if err != nil {
			return d, storeError{err}
		}
		return d, nil
	}
	out := make([]identity.Event, len(pushed))
	for i, p := range pushed {
		if out[i], err = p.Event(i+1, "webhook", cfg.Clock(), current); err != nil {
			return nil, err
		}
	}
	return out, nil
}
