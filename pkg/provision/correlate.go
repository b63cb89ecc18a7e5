package provision

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tenure-id/tenure/pkg/connector"
)

// Conflict is a correlation Tenure will not guess: an account that two people match, or a
// person that two accounts match. Someone has to fix the app or the directory; until then no
// operation is planned for the people named.
type Conflict struct {
	PersonIDs  []string `json:"person_ids"`
	AccountIDs []string `json:"account_ids"`
	Detail     string   `json:"detail"`
}

// Drift is a field or membership someone changed in the app after Tenure set it.
type Drift struct {
	PersonID  string `json:"person_id"`
	AccountID string `json:"account_id"`
	UserName  string `json:"user_name"`
	// Field is an account field ("email", "attributes.title") or "memberships".
	Field string `json:"field"`
	// Want is what Tenure set and still wants; Have is what the app holds now. For memberships
	// one of them is the entitlement and the other empty.
	Want string `json:"want"`
	Have string `json:"have"`
}

// Correlation keys, as reasons name them.
const (
	byExternalID = "externalId"
	byUserName   = "userName"
	byEmail      = "email"
)

// match is one account correlated to a person.
type match struct {
	acc      *connector.Account
	by       string
	personID string
}

type correlation struct {
	// matches are the correlated accounts and byPerson each person's one, as an index into
	// matches; a person with several is in extra and blocked.
	matches   []match
	byPerson  map[string]int
	extra     map[string][]match
	orphans   []*connector.Account
	conflicts []Conflict
	// blocked people appear in a conflict and get no operations.
	blocked map[string]bool
}

// correlate matches each account to a person: by ExternalID (the person ID Tenure set), else
// by user name (case-insensitive), else by email. Among user name and email, an account whose
// keys point at different people is a conflict, not a choice.
func correlate(ix *People, actual []connector.Account) correlation {
	c := correlation{matches: make([]match, 0, len(actual)), byPerson: make(map[string]int, len(actual)), extra: map[string][]match{},
		blocked: map[string]bool{}}
	put := func(id string, m match) {
		m.personID = id
		if first, ok := c.byPerson[id]; ok {
			if len(c.extra[id]) == 0 {
				c.extra[id] = []match{c.matches[first]}
			}
			c.extra[id] = append(c.extra[id], m)
			return
		}
		c.byPerson[id] = len(c.matches)
		c.matches = append(c.matches, m)
	}
	for i := range actual {
		acc := &actual[i]
		if acc.ExternalID != "" {
			if p, ok := ix.byID[acc.ExternalID]; ok {
				put(p.ID, match{acc: acc, by: byExternalID})
				continue
			}
		}
		var cands []*Person
		var keys []string
		if acc.UserName != "" {
			for _, p := range ix.byUser[strings.ToLower(acc.UserName)] {
				cands, keys = append(cands, p), append(keys, byUserName)
			}
		}
		if acc.Email != "" {
			for _, p := range ix.byEmail[strings.ToLower(acc.Email)] {
				if !slices.Contains(cands, p) {
					cands, keys = append(cands, p), append(keys, byEmail)
				}
			}
		}
		switch len(cands) {
		case 0:
			c.orphans = append(c.orphans, acc)
		case 1:
			put(cands[0].ID, match{acc: acc, by: keys[0]})
		default:
			var ids, who []string
			for j, p := range cands {
				ids = append(ids, p.ID)
				who = append(who, fmt.Sprintf("%s by %s", describe(p), keys[j]))
				c.blocked[p.ID] = true
			}
			c.conflicts = append(c.conflicts, Conflict{PersonIDs: ids, AccountIDs: []string{acc.ID},
				Detail: fmt.Sprintf("account %s (%s) matches %s", acc.ID, acc.UserName, strings.Join(who, " and "))})
		}
	}
	for _, id := range sortedKeys(c.extra) {
		ms := c.extra[id]
		var accs, how []string
		for _, m := range ms {
			accs = append(accs, m.acc.ID)
			how = append(how, fmt.Sprintf("%s (%s) by %s", m.acc.ID, m.acc.UserName, m.by))
		}
		c.blocked[id] = true
		c.conflicts = append(c.conflicts, Conflict{PersonIDs: []string{id}, AccountIDs: accs,
			Detail: fmt.Sprintf("%s matches %d accounts: %s", describe(ix.byID[id]), len(ms), strings.Join(how, ", "))})
	}
	return c
}

func describe(p *Person) string {
	if p.EmployeeID == "" {
		return p.ID
	}
	return fmt.Sprintf("%s (%s)", p.Name, p.EmployeeID)
}
