package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tenure-id/tenure/pkg/audit"
	"github.com/tenure-id/tenure/pkg/identity"
)

// Replay rebuilds the access state as it stood at at from the audit log: every person,
// account and exception change up to that moment, applied in order. The whole log is read and
// its chain verified first to last, so a report is never built on a log that does not verify;
// the evidence names the head it was verified to.
func Replay(ctx context.Context, log audit.Reader, at time.Time) (State, Evidence, error) {
	st := NewState(nil, nil, nil)
	next := audit.Pages(ctx, log, 0, 0)
	var v audit.Verifier
	for {
		r, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, Evidence{}, err
		}
		if err := v.Next(r); err != nil {
			return st, Evidence{}, fmt.Errorf("the audit log does not verify, so no report is built from it: %w", err)
		}
		// Records are appended in order of time, but clocks on several replicas may disagree
		// by a little: each record is judged by its own time rather than stopping at the first
		// one after at.
		if r.Time.After(at) {
			continue
		}
		if err := st.apply(r); err != nil {
			return st, Evidence{}, fmt.Errorf("audit record %d (%s %s): %w", r.Seq, r.Action, r.Target, err)
		}
	}
	ev := Evidence{Verified: true, Records: v.Count()}
	if last := v.Last(); last != nil {
		ev.Head = audit.Anchor{Seq: last.Seq, Hash: last.Hash}.String()
	}
	return st, ev, nil
}

// apply applies one record; actions that do not bear on access are skipped.
func (st *State) apply(r identity.AuditRecord) error {
	if done, err := st.applySilo(r); done || err != nil {
		return err
	}
	kind, _, _ := strings.Cut(r.Action, ".")
	switch r.Action {
	case "person.create", "person.update":
		var p identity.Person
		if err := json.Unmarshal(r.After, &p); err != nil {
			return err
		}
		st.People[p.ID] = p
	case "account.create", "account.update":
		var a identity.Account
		if err := json.Unmarshal(r.After, &a); err != nil {
			return err
		}
		st.Accounts[a.App+"/"+a.ExternalID] = a
	case "account.delete":
		var a identity.Account
		if err := json.Unmarshal(r.Before, &a); err != nil {
			return err
		}
		delete(st.Accounts, a.App+"/"+a.ExternalID)
	case "grant.create":
		var g identity.Grant
		if err := json.Unmarshal(r.After, &g); err != nil {
			return err
		}
		if g.Source == identity.FromException {
			st.Grants[g.ID] = g
		}
	case "grant.delete":
		var g identity.Grant
		if err := json.Unmarshal(r.Before, &g); err != nil {
			return err
		}
		delete(st.Grants, g.ID)
	default:
		if slices.Contains([]string{"person", "account", "grant", "group", "ldap_entry"}, kind) && (len(r.Before) > 0 || len(r.After) > 0) {
			// A change of a kind this replay does not know: the report says it left it out
			// rather than pass over it in silence.
			if st.Skipped == nil {
				st.Skipped = map[string]int{}
			}
			st.Skipped[r.Action]++
		}
	}
	return nil
}
