package policy

import (
	"maps"
	"time"

	"github.com/tenure-id/tenure/pkg/identity"
)

// Attributes the lifecycle engine sets on a transfer that keeps old access for a while (HR's
// overlap window, e.g. a hand-over month).
const (
	AttrKeepAccessUntil = "keep_access_until" // RFC 3339
	AttrPreviousOrgUnit = "previous_org_unit" // org unit ID before the transfer
)

// transferOverlap reports the org unit whose access a transferred person keeps, and until when.
func transferOverlap(p identity.Person, now time.Time) (string, time.Time, bool) {
	prev := p.Attributes[AttrPreviousOrgUnit]
	if prev == "" || prev == p.OrgUnitID {
		return "", time.Time{}, false
	}
	until, err := time.Parse(time.RFC3339, p.Attributes[AttrKeepAccessUntil])
	if err != nil || !now.Before(until) {
		return "", time.Time{}, false
	}
	return prev, until, true
}

// addOverlap gives a transferred person, until the overlap ends, what their previous org unit
// gave them and the new one does not, each reason marked with the date it lapses. After that
// date the same resolve simply no longer yields them: revocation needs no extra step.
func (r *Resolver) addOverlap(res *Result, p identity.Person, v View) {
	prev, until, ok := transferOverlap(p, v.Now())
	if !ok {
		return
	}
	before := p
	before.OrgUnitID = prev
	before.Attributes = maps.Clone(p.Attributes)
	delete(before.Attributes, AttrPreviousOrgUnit) // one step back only, never a chain
	old := r.Resolve(before, v)
	for _, g := range old.Grants {
		if res.has(g.Key()) {
			continue
		}
		var reasons []Reason
		for _, reason := range g.Reasons {
			if reason.Exception == nil { // exceptions were applied to the person already
				reason.KeptUntil = &until
				reasons = append(reasons, reason)
			}
		}
		if len(reasons) == 0 {
			continue
		}
		kept := res.add(g.App, g.Entitlement, g.id, "")
		kept.Role, kept.Attributes, kept.Reasons = g.Role, g.Attributes, reasons
	}
}
