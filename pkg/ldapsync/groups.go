package ldapsync

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/tenure-id/tenure/pkg/config"
	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
)

// groupStore is the part of the directory that holds groups.
type groupStore interface {
	ListGroups(ctx context.Context) ([]identity.Group, error)
	CreateGroup(ctx context.Context, g identity.Group) (identity.Group, error)
	DeleteGroup(ctx context.Context, id string) error
	GroupMembers(ctx context.Context, groupID string) ([]identity.Person, error)
	AddGroupMember(ctx context.Context, groupID, personID string) error
	RemoveGroupMember(ctx context.Context, groupID, personID string) error
}

// GroupSource is the Group.Source of groups mirrored from a silo; policies match on it.
func GroupSource(source string) string { return "ldap:" + source }

// siloGroup is a group as the silo has it, with members resolved to people.
type siloGroup struct {
	key, name, description string
	memberDNs              []string
	people                 map[string]bool
}

// syncGroups mirrors the silo's groups as directory groups of source "ldap:<name>", keyed by
// the group's stable identifier. Members are the people linked to member entries; members
// that are unlinked, in conflict or removed from the silo are left out. The group list is
// always read whole (groups are few), so groups gone from the silo are deleted here: they
// carry no one's identity, only memberships.
func (s *Syncer) syncGroups(ctx context.Context, conn *ldap.Conn, src config.LDAPSource, m mapping) (int, error) {
	silo := map[string]*siloGroup{}
	err := pagedSearch(conn, src.BaseDN, m.groupFilter, m.groupAttributes(), src.PageSizeOrDefault(), func(page []*ldap.Entry) error {
		for _, le := range page {
			key, err := m.key(le)
			if err != nil {
				return err
			}
			name := le.GetEqualFoldAttributeValue(m.attrs[mapGroupName])
			if name == "" {
				return fmt.Errorf("group %s: no %s to name it", le.DN, m.attrs[mapGroupName])
			}
			silo[key] = &siloGroup{key: key, name: name, description: le.GetEqualFoldAttributeValue("description"),
				memberDNs: append(le.GetEqualFoldAttributeValues(m.attrs[mapMember]), le.GetEqualFoldAttributeValues("uniqueMember")...)}
		}
		return ctx.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("ldap source %s: groups: %w", src.Name, err)
	}
	if len(silo) > 0 {
		// Members resolve through the links as stored, which this run has just written.
		linked, err := s.Store.ListLDAPEntries(ctx, directory.LDAPEntryFilter{Source: src.Name,
			Links:    []directory.LinkState{directory.LinkAuto, directory.LinkManual},
			Statuses: []directory.LDAPEntryStatus{directory.LDAPEntryActive, directory.LDAPEntryDisabled}})
		if err != nil {
			return 0, err
		}
		personByDN := make(map[string]string, len(linked))
		for _, e := range linked {
			personByDN[normalizeDN(e.DN)] = e.PersonID
		}
		for _, g := range silo {
			g.people = map[string]bool{}
			for _, dn := range g.memberDNs {
				if p := personByDN[normalizeDN(dn)]; p != "" {
					g.people[p] = true
				}
			}
		}
	}
	all, err := s.Store.ListGroups(ctx)
	if err != nil {
		return 0, err
	}
	have := map[string]identity.Group{}
	for _, g := range all {
		if g.Source == GroupSource(src.Name) {
			have[g.ExternalID] = g
		}
	}
	for key, g := range have {
		if _, ok := silo[key]; !ok {
			if err := s.Store.DeleteGroup(ctx, g.ID); err != nil {
				return 0, fmt.Errorf("ldap source %s: delete group %s: %w", src.Name, g.Name, err)
			}
		}
	}
	for key, sg := range silo {
		g, ok := have[key]
		if !ok {
			if g, err = s.Store.CreateGroup(ctx, identity.Group{Name: sg.name, Source: GroupSource(src.Name), ExternalID: key, Description: sg.description}); err != nil {
				return 0, fmt.Errorf("ldap source %s: group %s: %w", src.Name, sg.name, err)
			}
		}
		if err := s.syncMembers(ctx, g, sg.people); err != nil {
			return 0, fmt.Errorf("ldap source %s: group %s: %w", src.Name, sg.name, err)
		}
	}
	return len(silo), nil
}

func (s *Syncer) syncMembers(ctx context.Context, g identity.Group, want map[string]bool) error {
	current, err := s.Store.GroupMembers(ctx, g.ID)
	if err != nil {
		return err
	}
	has := map[string]bool{}
	for _, p := range current {
		has[p.ID] = true
		if !want[p.ID] {
			if err := s.Store.RemoveGroupMember(ctx, g.ID, p.ID); err != nil {
				return err
			}
		}
	}
	for p := range want {
		if !has[p] {
			if err := s.Store.AddGroupMember(ctx, g.ID, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// normalizeDN makes DNs from one server comparable: attribute names and values case-folded,
// no spaces around separators.
func normalizeDN(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(dn)
	}
	parts := make([]string, len(parsed.RDNs))
	for i, rdn := range parsed.RDNs {
		avas := make([]string, len(rdn.Attributes))
		for j, a := range rdn.Attributes {
			avas[j] = strings.ToLower(a.Type) + "=" + strings.ToLower(a.Value)
		}
		parts[i] = strings.Join(avas, "+")
	}
	return strings.Join(parts, ",")
}
