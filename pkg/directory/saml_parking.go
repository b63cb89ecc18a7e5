package directory

import (
	"context"
	"errors"
	"time"
)

// ParkedSAMLRequest is an SP-initiated AuthnRequest waiting for its browser to sign in. It is
// kept in the database, not in one process, so that the replica the browser comes back to can
// resume it and a restart loses no sign-in in progress.
type ParkedSAMLRequest struct {
	// KeyHash is the SHA-256 (hex) of the random key in the resume URL: like session tokens,
	// the key itself is never stored, so reading the table resumes nobody's sign-in.
	KeyHash string
	// Request is the request as it arrived, encoded by the IdP; the store keeps it byte for
	// byte (a signed request must be replayed exactly).
	Request   string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// MaxParkedSAMLRequest bounds Request: anyone may park a request, so the table must not be a
// place to store arbitrary data.
const MaxParkedSAMLRequest = 64 << 10

// ErrParkingFull is returned by ParkSAMLRequest when the limit of live parked requests is
// reached.
var ErrParkingFull = errors.New("too many sign-in requests in progress")

// SAMLParking keeps parked SP-initiated requests. Nothing here is audited: anyone can park a
// request (audit records per request would let them grow the log at will), and the sign-in a
// resumed request leads to is audited on its own.
type SAMLParking interface {
	// ParkSAMLRequest stores r, assigning CreatedAt. When limit > 0 and that many requests are
	// stored, those expired at now are removed first; if limit live ones remain it fails with
	// ErrParkingFull. A key hash already parked is ErrConflict; an oversized or incomplete
	// request is ErrInvalid.
	ParkSAMLRequest(ctx context.Context, r ParkedSAMLRequest, now time.Time, limit int) error
	// ParkedSAMLRequest reads a request without using it up; ErrNotFound when there is none or
	// it expired at now.
	ParkedSAMLRequest(ctx context.Context, keyHash string, now time.Time) (ParkedSAMLRequest, error)
	// TakeParkedSAMLRequest returns the request and deletes it in one transaction, so a request
	// resumes at most once: of concurrent takes, on any replica, one gets it and the others get
	// ErrNotFound. A request expired at now is deleted and reported as ErrNotFound.
	TakeParkedSAMLRequest(ctx context.Context, keyHash string, now time.Time) (ParkedSAMLRequest, error)
}
