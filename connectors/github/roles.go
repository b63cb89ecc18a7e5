package github

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tenure-id/tenure/pkg/connector"
)

// enterpriseRoles are the values GitHub accepts in an enterprise user's roles[].value.
var enterpriseRoles = []string{"user", "guest_collaborator", "enterprise_owner", "billing_manager"}

// DefaultRoles maps the roles policies usually speak of (an organization's member and owner)
// to GitHub's enterprise roles.
const DefaultRoles = "member=user,owner=enterprise_owner"

// roleMap translates policy roles to GitHub's and back, so a plan compares like with like.
type roleMap struct{ toApp, fromApp map[string]string }

// parseRoles reads "POLICY=GITHUB,..." pairs. A GitHub role named as itself needs no pair.
func parseRoles(s string) (roleMap, error) {
	m := roleMap{toApp: map[string]string{}, fromApp: map[string]string{}}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		from, to, ok := strings.Cut(pair, "=")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if !ok || from == "" || to == "" {
			return m, fmt.Errorf("%q is not POLICY_ROLE=GITHUB_ROLE", pair)
		}
		if !slices.Contains(enterpriseRoles, to) {
			return m, fmt.Errorf("%q: GitHub role %q is not one of %s", pair, to, strings.Join(enterpriseRoles, ", "))
		}
		if _, dup := m.fromApp[to]; dup {
			return m, fmt.Errorf("GitHub role %q is mapped twice", to)
		}
		m.toApp[from], m.fromApp[to] = to, from
	}
	return m, nil
}

// outgoing gives the op's account GitHub's role.
func (m roleMap) outgoing(op connector.Op) connector.Op {
	if r, ok := m.toApp[op.Account.Role]; ok {
		op.Account.Role = r
	}
	return op
}

// incoming gives an account read from GitHub the policy's role.
func (m roleMap) incoming(a connector.Account) connector.Account {
	if r, ok := m.fromApp[a.Role]; ok {
		a.Role = r
	}
	return a
}

func (m roleMap) incomingAll(accs []connector.Account) []connector.Account {
	for i := range accs {
		accs[i] = m.incoming(accs[i])
	}
	return accs
}

// List implements connector.Connector: every user, with team and group memberships.
func (c *Connector) List(ctx context.Context) ([]connector.Account, error) {
	accs, err := c.list(ctx)
	return c.roles.incomingAll(accs), err
}

// Find implements connector.Finder.
func (c *Connector) Find(ctx context.Context, m connector.Match) (connector.Account, error) {
	a, err := c.find(ctx, m)
	return c.roles.incoming(a), err
}

// Apply implements connector.Connector.
func (c *Connector) Apply(ctx context.Context, op connector.Op) (connector.Account, error) {
	a, err := c.apply(ctx, c.roles.outgoing(op))
	return c.roles.incoming(a), err
}
