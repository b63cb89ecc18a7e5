package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenure-id/tenure/pkg/directory"
	"github.com/tenure-id/tenure/pkg/identity"
	"github.com/tenure-id/tenure/pkg/idp"
)

// metadataFetchTimeout bounds `sp add --metadata URL`.
const metadataFetchTimeout = 10 * time.Second

func (e *env) spCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "sp", Short: "SAML service providers: the apps people sign in to through Tenure"}
	cmd.AddCommand(e.spAddCommand(), e.spListCommand(), e.spRemoveCommand())
	return cmd
}

// spView is how a service provider is listed: the metadata itself is long, so its ACS URLs
// stand for it.
type spView struct {
	EntityID     string    `json:"entity_id"`
	App          string    `json:"app"`
	NameIDFormat string    `json:"nameid_format"`
	Attributes   []string  `json:"attributes"`
	ACSURLs      []string  `json:"acs_urls"`
	Version      int64     `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func viewSP(sp directory.SAMLServiceProvider) spView {
	v := spView{EntityID: sp.EntityID, App: sp.App, NameIDFormat: string(sp.NameIDFormat), Attributes: sp.Attributes,
		ACSURLs: []string{}, Version: sp.Version, CreatedAt: sp.CreatedAt, UpdatedAt: sp.UpdatedAt}
	if v.Attributes == nil {
		v.Attributes = []string{}
	}
	if ed, err := idp.ParseSPMetadata([]byte(sp.Metadata)); err == nil {
		for _, d := range ed.SPSSODescriptors {
			for _, acs := range d.AssertionConsumerServices {
				v.ACSURLs = append(v.ACSURLs, acs.Location)
			}
		}
	}
	return v
}

func spTable(sps []spView) table {
	t := table{headers: []string{"ENTITY_ID", "APP", "NAMEID", "ATTRIBUTES", "ACS", "VERSION"}}
	for _, v := range sps {
		t.rows = append(t.rows, []string{v.EntityID, v.App, v.NameIDFormat, strings.Join(v.Attributes, ","),
			strings.Join(v.ACSURLs, " "), strconv.FormatInt(v.Version, 10)})
	}
	return t
}

func (e *env) spAddCommand() *cobra.Command {
	var metadata, app, nameID string
	var attributes []string
	cmd := &cobra.Command{
		Use:   "add --metadata FILE|URL [--app NAME] [--nameid email|persistent|unspecified] [--attributes a,b]",
		Short: "Register a service provider from its SAML metadata (adding it again replaces it)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if metadata == "" {
				return usagef("--metadata FILE|URL is required")
			}
			format := directory.NameIDFormat(nameID)
			if !slices.Contains(directory.NameIDFormats, format) {
				return usagef("--nameid %q: use email, persistent or unspecified", nameID)
			}
			for _, a := range attributes {
				if !slices.Contains(directory.SAMLAttributes, a) {
					return usagef("--attributes: %q is not one of %s", a, strings.Join(directory.SAMLAttributes, ","))
				}
			}
			ctx := cmd.Context()
			doc, err := readMetadata(ctx, metadata)
			if err != nil {
				return err
			}
			ed, err := idp.ParseSPMetadata(doc)
			if err != nil {
				return fmt.Errorf("%s: %w", metadata, err)
			}
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			if app, err = chooseApp(ctx, s, app, ed.EntityID); err != nil {
				return err
			}
			sp, err := s.PutSAMLServiceProvider(e.actorContext(ctx), directory.SAMLServiceProvider{EntityID: ed.EntityID, App: app,
				NameIDFormat: format, Attributes: attributes, Metadata: string(doc)})
			if err != nil {
				return err
			}
			v := viewSP(sp)
			if e.output == "table" {
				verb := "added"
				if sp.Version > 1 {
					verb = "updated"
				}
				fmt.Fprintf(e.stdout, "%s %s for app %s (NameID %s; attributes %s)\n", verb, sp.EntityID, sp.App, sp.NameIDFormat, strings.Join(sp.Attributes, ","))
				return nil
			}
			return e.print(v, spTable([]spView{v}))
		},
	}
	cmd.Flags().StringVar(&metadata, "metadata", "", "the service provider's SAML metadata: a file, or an http(s) URL")
	cmd.Flags().StringVar(&app, "app", "", "the catalogue app it is (default: the app named in its entity ID's host)")
	cmd.Flags().StringVar(&nameID, "nameid", string(directory.NameIDPersistent), "NameID format: email|persistent|unspecified")
	cmd.Flags().StringSliceVar(&attributes, "attributes", slices.Clone(directory.SAMLAttributes), "attributes to release: "+strings.Join(directory.SAMLAttributes, ","))
	return cmd
}

func readMetadata(ctx context.Context, src string) ([]byte, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		return idp.FetchSPMetadata(ctx, src, metadataFetchTimeout)
	}
	if strings.Contains(src, "://") {
		return nil, fmt.Errorf("--metadata %s: only files and http(s) URLs are read", src)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("--metadata: %w", err)
	}
	return b, nil
}

// appLister is what chooseApp reads.
type appLister interface {
	ListApps(ctx context.Context) ([]identity.App, error)
}

// chooseApp checks the named app is in the catalogue, or, with none named, picks the one app
// whose name is a label of the entity ID's host ("github" for https://github.com/orgs/x).
func chooseApp(ctx context.Context, s appLister, app, entityID string) (string, error) {
	apps, err := s.ListApps(ctx)
	if err != nil {
		return "", err
	}
	names := make([]string, len(apps))
	for i, a := range apps {
		names[i] = a.Name
	}
	if app != "" {
		if !slices.Contains(names, app) {
			return "", fmt.Errorf("--app %q is not in the directory's app catalogue (run 'tenure policy publish-apps'); known: %s", app, strings.Join(names, ", "))
		}
		return app, nil
	}
	var found []string
	if u, err := url.Parse(entityID); err == nil && u.Hostname() != "" {
		for _, label := range strings.Split(strings.ToLower(u.Hostname()), ".") {
			if slices.Contains(names, label) && !slices.Contains(found, label) {
				found = append(found, label)
			}
		}
	}
	if len(found) != 1 {
		return "", errors.New("cannot tell which app " + entityID + " is: pass --app NAME (one of " + strings.Join(names, ", ") + ")")
	}
	return found[0], nil
}

func (e *env) spListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the registered service providers",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			sps, err := s.ListSAMLServiceProviders(ctx)
			if err != nil {
				return err
			}
			views := make([]spView, len(sps))
			for i, sp := range sps {
				views[i] = viewSP(sp)
			}
			return e.print(views, spTable(views))
		},
	}
}

func (e *env) spRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "remove ENTITYID",
		Short: "Stop serving a service provider (nobody can sign in to it any more)",
		Args:  exactArgs(1, "ENTITYID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := e.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.DeleteSAMLServiceProvider(e.actorContext(ctx), args[0]); err != nil {
				return err
			}
			if e.output == "table" {
				fmt.Fprintf(e.stdout, "removed %s\n", args[0])
				return nil
			}
			return e.print(map[string]string{"entity_id": args[0], "status": "removed"}, table{headers: []string{"ENTITY_ID", "STATUS"}, rows: [][]string{{args[0], "removed"}}})
		},
	}
}
