package scim

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tenure-id/tenure/pkg/connector"
)

// indexTTL bounds how long the externalId index is trusted: creates made meanwhile by
// another process go unseen by it for at most this long (and a 409 on the userName or email
// still adopts them).
const indexTTL = 10 * time.Minute

// externalIDIndex maps externalId → user id for apps that cannot filter users on externalId
// (Profile.ExternalIDIndex), so that adopting a user before a create does not list every user
// each time. It is filled from a full listing (List, or the first lookup) and kept by the
// creates this connector makes. A create whose outcome is unknown (no answer, a server error)
// may have landed: it marks the index stale, so the next lookup lists again. Every hit is read
// back before it is trusted, so a stale entry costs a request, never a wrong adoption.
type externalIDIndex struct {
	mu     sync.Mutex
	ids    map[string]string
	loaded time.Time // zero: never loaded, or stale
}

func (c *Connector) indexed() bool {
	return c.p.ExternalIDIndex && c.p.UserPath != ""
}

// indexLoad records a full listing of the users. Entries it lacks are kept: one may come from
// a create that answered after the listing was read, and hits are checked anyway.
func (c *Connector) indexLoad(users []resource) {
	c.idx.mu.Lock()
	defer c.idx.mu.Unlock()
	if c.idx.ids == nil {
		c.idx.ids = map[string]string{}
	}
	for _, u := range users {
		if ext := str(u["externalId"]); ext != "" {
			c.idx.ids[ext] = u.id()
		}
	}
	c.idx.loaded = c.now()
}

func (c *Connector) indexPut(ext, id string) {
	c.idx.mu.Lock()
	defer c.idx.mu.Unlock()
	if c.idx.ids == nil {
		c.idx.ids = map[string]string{}
	}
	c.idx.ids[ext] = id
}

func (c *Connector) indexDrop(ext string) {
	c.idx.mu.Lock()
	delete(c.idx.ids, ext)
	c.idx.mu.Unlock()
}

// indexStale makes the next lookup list the users again.
func (c *Connector) indexStale() {
	c.idx.mu.Lock()
	c.idx.loaded = time.Time{}
	c.idx.mu.Unlock()
}

// byExternalID finds the user holding ext through the index, listing the users first when
// the index is stale.
func (c *Connector) byExternalID(ctx context.Context, ext string) (resource, bool, error) {
	c.idx.mu.Lock()
	fresh := !c.idx.loaded.IsZero() && c.now().Sub(c.idx.loaded) < indexTTL
	id, ok := c.idx.ids[ext]
	c.idx.mu.Unlock()
	if !fresh {
		all, err := c.pages(ctx, c.p.UserPath, "")
		if err != nil {
			return nil, false, err
		}
		c.indexLoad(all)
		for _, u := range all {
			if str(u["externalId"]) == ext {
				return u, true, nil
			}
		}
		return nil, false, nil
	}
	if !ok {
		return nil, false, nil
	}
	u, _, err := c.getUser(ctx, id)
	if errors.Is(err, connector.ErrNotFound) || (err == nil && str(u["externalId"]) != ext) {
		c.indexDrop(ext)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return u, true, nil
}

// outcomeUnknown says whether a failed create may still have landed: the app did not answer,
// or answered with an error that does not say it refused.
func outcomeUnknown(err error) bool {
	return !errors.Is(err, connector.ErrConflict) && !errors.Is(err, connector.ErrInvalid) &&
		!errors.Is(err, connector.ErrUnauthorized) && !errors.Is(err, connector.ErrNotFound) &&
		!errors.Is(err, connector.ErrRateLimited)
}
