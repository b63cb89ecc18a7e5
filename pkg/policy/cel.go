package policy

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
	"gopkg.in/yaml.v3"
)

// celFields are the person's fields a cel condition may read, as person.NAME. They are
// declared one by one (qualified names, as Envoy declares request.path) rather than as one
// map, so a misspelt field fails validation instead of every evaluation, and so evaluating
// builds only the fields the expression reads.
var celFields = []struct {
	name string
	typ  *cel.Type
}{
	{"employee_id", cel.StringType},
	{"username", cel.StringType},
	{"work_email", cel.StringType},
	{"employment_type", cel.StringType}, // employee|contractor|vendor|intern
	{"status", cel.StringType},          // pre_hire|active|on_leave|suspended|terminated
	{"job_title", cel.StringType},
	{"job_code", cel.StringType},
	{"location", cel.StringType},
	{"country", cel.StringType}, // ISO 3166-1 alpha-2
	{"cost_center", cel.StringType},
	{"attributes", cel.MapType(cel.StringType, cel.StringType)},
	{"org_unit", cel.StringType},                    // the unit's path
	{"org_path", cel.ListType(cel.StringType)},      // unit names, root first
	{"manager_chain", cel.ListType(cel.StringType)}, // managers' employee IDs, nearest first
	{"direct_reports", cel.IntType},
	{"groups", cel.ListType(cel.StringType)}, // group names from every source
	// Unset dates make the expression fail to evaluate, so the condition does not hold.
	{"start_date", cel.TimestampType},
	{"end_date", cel.TimestampType},
}

// celEnv is built once: every cel condition of every policy set is checked against it.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	opts := []cel.EnvOption{
		// now comes from the resolver's view, so rules stay pure and tests control the clock.
		cel.Variable("now", cel.TimestampType),
		cel.OptionalTypes(), // person.attributes[?"key"].orValue("") for attributes not everyone has
		ext.Strings(),
	}
	for _, f := range celFields {
		opts = append(opts, cel.Variable("person."+f.name, f.typ))
	}
	return cel.NewEnv(opts...)
})

var errNotCompiled = errors.New("CEL condition was not compiled")

// celCond is a compiled cel condition; the expression itself is the Cond's Values[0].
type celCond struct {
	prog cel.Program
	refs []string // the variables the expression reads, in source order, for explanations
}

// celIssue is one compile error, with its line inside the expression (1-based).
type celIssue struct {
	line int
	msg  string
}

// compileCEL parses, type-checks and plans expr once, at load time.
func compileCEL(expr string) (*celCond, []celIssue) {
	env, err := celEnv()
	if err != nil {
		return nil, []celIssue{{1, fmt.Sprintf("CEL environment: %v", err)}}
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		var out []celIssue
		for _, e := range iss.Errors() {
			out = append(out, celIssue{line: max(e.Location.Line(), 1), msg: celMessage(e, expr)})
		}
		return nil, out
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) {
		return nil, []celIssue{{1, fmt.Sprintf("the expression must be a bool (true grants), got %s", t)}}
	}
	prog, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, []celIssue{{1, err.Error()}}
	}
	return &celCond{prog: prog, refs: celRefs(ast)}, nil
}

func celRefs(a *cel.Ast) []string {
	refs := a.NativeRep().ReferenceMap()
	ids := slices.Sorted(maps.Keys(refs))
	var out []string
	for _, id := range ids {
		if r := refs[id]; r.Name != "" && len(r.OverloadIDs) == 0 && !slices.Contains(out, r.Name) {
			out = append(out, r.Name)
		}
	}
	return out
}

// celMessage rewords cel-go's "undeclared reference" errors for policy authors: the person's
// fields are declared one by one, so a misspelt field reads to cel-go as an unknown "person".
func celMessage(e *cel.Error, expr string) string {
	msg := e.Message
	if !strings.HasPrefix(msg, "undeclared reference to") {
		return msg
	}
	names := make([]string, len(celFields))
	for i, f := range celFields {
		names[i] = f.name
	}
	known := "person fields: " + strings.Join(names, ", ") + "; and now"
	if ref, ok := strings.CutPrefix(msg, "undeclared reference to 'person."); ok {
		if field, rest, ok := strings.Cut(ref, "'"); ok {
			msg = "unknown field person." + field + rest + attrHint(field)
		}
	}
	if msg != "undeclared reference to 'person'" {
		if strings.Contains(msg, "did you mean") {
			return msg
		}
		return msg + " (" + known + ")"
	}
	lines := strings.Split(expr, "\n")
	if l := e.Location.Line(); l >= 1 && l <= len(lines) && e.Location.Column() < len(lines[l-1]) {
		if m := celPersonRef.FindStringSubmatch(lines[l-1][e.Location.Column():]); m != nil {
			return "unknown field person." + m[1] + " (" + known + ")" + attrHint(m[1])
		}
	}
	return "person is not a value on its own: use person.FIELD (" + known + ")"
}

// attrHint points at the attributes map, where custom HR fields live.
func attrHint(field string) string {
	return fmt.Sprintf(`; a custom attribute is person.attributes[%q]`, field)
}

var celPersonRef = regexp.MustCompile(`^person\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)`)

// celCondition reads `cel: EXPRESSION` and reports compile errors at the line of the
// expression that has them.
func (w *walker) celCondition(c *Cond, v *yaml.Node, field string) {
	expr := w.str(v, field)
	if expr == "" {
		return
	}
	c.Values = []string{expr}
	cc, issues := compileCEL(expr)
	for _, is := range issues {
		at := w.pos(v)
		switch v.Style {
		case yaml.LiteralStyle: // "|": the expression's lines are the file's, from the next one
			at.Line += is.line
		case yaml.FoldedStyle: // ">": lines are folded, so the block's first line is as near as it gets
			at.Line++
		}
		w.errs.add(at, field, "CEL: %s", is.msg)
	}
	c.cel = cc
}

// eval runs the condition for one person. An evaluation error (a missing attribute key, an
// unset start date) means the condition does not hold; the error is returned for explanations.
func (cc *celCond) eval(s *subject) (bool, error) {
	if cc == nil {
		return false, errNotCompiled
	}
	if s.cel == nil {
		s.cel = &celVars{s: *s}
	}
	out, _, err := cc.prog.Eval(s.cel)
	if err != nil {
		return false, err
	}
	return out == types.True, nil
}

// celVars is the activation: it hands cel-go each variable as the expression asks for it, so
// a rule reading person.country never pays for the manager chain. It holds a copy of the
// subject because it outlives the call that made it.
type celVars struct {
	s subject
	// computed on first use
	orgPath, managers, groups ref.Val
}

func (a *celVars) Parent() interpreter.Activation { return nil }

func (a *celVars) ResolveName(name string) (any, bool) {
	if name == "now" {
		return types.Timestamp{Time: a.s.view.Now()}, true
	}
	field, ok := strings.CutPrefix(name, "person.")
	if !ok {
		return nil, false
	}
	p := &a.s.p
	switch field {
	case "employee_id":
		return types.String(p.EmployeeID), true
	case "username":
		return types.String(p.Username), true
	case "work_email":
		return types.String(p.WorkEmail), true
	case "employment_type":
		return types.String(p.EmploymentType), true
	case "status":
		return types.String(p.Status), true
	case "job_title":
		return types.String(p.JobTitle), true
	case "job_code":
		return types.String(p.JobCode), true
	case "location":
		return types.String(p.Location), true
	case "country":
		return types.String(p.Country), true
	case "cost_center":
		return types.String(p.CostCenter), true
	case "attributes":
		return types.NewStringStringMap(types.DefaultTypeAdapter, p.Attributes), true
	case "org_unit":
		if len(a.s.chain) == 0 {
			return types.String(""), true
		}
		return types.String(a.s.chain[len(a.s.chain)-1].Path), true
	case "org_path":
		if a.orgPath == nil {
			names := make([]string, len(a.s.chain))
			for i, u := range a.s.chain {
				names[i] = u.Path[strings.LastIndex(u.Path, "/")+1:]
			}
			a.orgPath = types.NewStringList(types.DefaultTypeAdapter, names)
		}
		return a.orgPath, true
	case "manager_chain":
		if a.managers == nil {
			var ids []string
			id := p.ManagerID
			for depth := 0; id != "" && depth < maxChain; depth++ {
				m, ok := a.s.view.Person(id)
				if !ok {
					break
				}
				ids = append(ids, m.EmployeeID)
				id = m.ManagerID
			}
			a.managers = types.NewStringList(types.DefaultTypeAdapter, ids)
		}
		return a.managers, true
	case "direct_reports":
		return types.Int(a.s.view.DirectReports(p.ID)), true
	case "groups":
		if a.groups == nil {
			gs := a.s.view.Groups(p.ID)
			names := make([]string, len(gs))
			for i, g := range gs {
				names[i] = g.Name
			}
			a.groups = types.NewStringList(types.DefaultTypeAdapter, names)
		}
		return a.groups, true
	case "start_date":
		if p.StartDate == nil {
			return nil, false
		}
		return types.Timestamp{Time: *p.StartDate}, true
	case "end_date":
		if p.EndDate == nil {
			return nil, false
		}
		return types.Timestamp{Time: *p.EndDate}, true
	}
	return nil, false
}

// observe evaluates the condition for an explanation: the outcome, or the error that made it
// not hold, and the value of every variable the expression reads.
func (cc *celCond) observe(s *subject) string {
	ok, err := cc.eval(s)
	out := "evaluates to " + strconv.FormatBool(ok)
	if err != nil {
		out = "evaluation error, so it does not hold: " + err.Error()
	}
	if cc == nil {
		return out
	}
	vals := make([]string, len(cc.refs))
	for i, name := range cc.refs {
		vals[i] = name + " = " + s.cel.show(name)
	}
	if len(vals) > 0 {
		out += "; " + strings.Join(vals, ", ")
	}
	return out
}

func (a *celVars) show(name string) string {
	v, ok := a.ResolveName(name)
	if !ok {
		return "(not set)"
	}
	switch x := v.(ref.Val).Value().(type) {
	case string:
		return strconv.Quote(x)
	case []string:
		return "[" + quoteList(x) + "]"
	case map[string]string:
		kv := make([]string, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			kv = append(kv, strconv.Quote(k)+": "+strconv.Quote(x[k]))
		}
		return "{" + strings.Join(kv, ", ") + "}"
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	default:
		return fmt.Sprint(x)
	}
}
