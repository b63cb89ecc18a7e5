package zendeskfake

import (
	"net/http"
	"strconv"
	"strings"
)

func (f *Fake) identitiesOf(u *User) []Identity {
	out := make([]Identity, len(u.identities))
	for i, id := range u.identities {
		id.UserID = u.ID
		out[i] = id
	}
	return out
}

func (f *Fake) listIdentities(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.liveLocked(r, "id")
	if u == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"identities": f.identitiesOf(u), "next_page": nil, "previous_page": nil, "count": len(u.identities)})
}

// identityLocked is the user and the index of the identity the path names.
func (f *Fake) identityLocked(r *http.Request) (*User, int) {
	u := f.liveLocked(r, "id")
	if u == nil {
		return nil, -1
	}
	iid, _ := strconv.ParseInt(r.PathValue("iid"), 10, 64)
	for i, id := range u.identities {
		if id.ID == iid {
			return u, i
		}
	}
	return nil, -1
}

// updateIdentity changes an address (the primary one too, which changes the user's email).
func (f *Fake) updateIdentity(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Identity *struct {
			Value    *string `json:"value"`
			Verified *bool   `json:"verified"`
		} `json:"identity"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Identity == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "InvalidParameter", "description": "identity parameter is required"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, i := f.identityLocked(r)
	if u == nil {
		notFound(w)
		return
	}
	id := &u.identities[i]
	if v := in.Identity.Value; v != nil {
		e := strings.ToLower(strings.TrimSpace(*v))
		if local, domain, ok := strings.Cut(e, "@"); !ok || local == "" || !strings.Contains(domain, ".") {
			invalid(w, "value", "InvalidFormat", "Value: "+e+" is not properly formatted")
			return
		}
		if o := f.findLocked(func(x *User) bool { return x.hasEmail(e) }); o != nil && !(o.ID == u.ID && id.Value == e) {
			invalid(w, "value", "DuplicateValue", "Value: "+e+" is already being used by another user")
			return
		}
		id.Value = e
		if id.Primary {
			u.Email = e
		}
	}
	if in.Identity.Verified != nil {
		id.Verified = *in.Identity.Verified
	}
	writeJSON(w, http.StatusOK, map[string]any{"identity": f.identitiesOf(u)[i]})
}

func (f *Fake) makePrimary(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, i := f.identityLocked(r)
	if u == nil {
		notFound(w)
		return
	}
	for j := range u.identities {
		u.identities[j].Primary = j == i
	}
	u.Email = u.identities[i].Value
	writeJSON(w, http.StatusOK, map[string]any{"identities": f.identitiesOf(u)})
}

// Identities returns a user's addresses.
func (f *Fake) Identities(id int64) []Identity {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok {
		return nil
	}
	return f.identitiesOf(u)
}
