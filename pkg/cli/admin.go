package cli

import (
	"errors"
	"strings"

	"github.com/tenure-id/tenure/pkg/admin"
)

// The CLI's names for what it shares with the admin API (pkg/admin), kept so the commands
// read as before.
var (
	loadSnapshot = admin.LoadSnapshot
	who          = admin.Who
	reasons      = admin.Reasons
	grantKeyOf   = admin.GrantKey
	dayBound     = admin.DayBound
)

type (
	orgIndex   = admin.OrgIndex
	orgNode    = admin.OrgNode
	verifyView = admin.VerifyView
)

// flagged is an admin.ParamError in the CLI's words: a message that starts with a parameter
// named in flags gets that flag's spelling ("--org-unit"), and a mistake in form exits 2.
type flagged struct {
	msg string
	err error
}

func (f flagged) Error() string { return f.msg }
func (f flagged) Unwrap() error { return f.err }

// cliError rewrites err when it is an admin.ParamError; flags maps the API's parameter names
// to this command's flags (without "--").
func cliError(err error, flags map[string]string) error {
	var pe *admin.ParamError
	if !errors.As(err, &pe) {
		return err
	}
	msg := pe.Msg
	if flag, ok := flags[pe.Param]; ok && strings.HasPrefix(msg, pe.Param) {
		msg = "--" + flag + strings.TrimPrefix(msg, pe.Param)
	}
	if pe.Usage {
		return usageError{flagged{msg: msg, err: err}}
	}
	return flagged{msg: msg, err: err}
}
