package scim

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenure-id/tenure/pkg/config"
)

func TestWithOptionsErrorsNameTheOption(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{"update": "post"}, `options.update: "post" is not put or patch`},
		{map[string]string{"page_size": "0"}, `options.page_size: "0" is not a positive whole number`},
		{map[string]string{"page_size": "many"}, `options.page_size`},
		{map[string]string{"create_groups": "perhaps"}, `options.create_groups: "perhaps" is not true or false`},
		{map[string]string{"etag": "always"}, `options.etag`},
		{map[string]string{"timeout": "-1s"}, `options.timeout`},
		{map[string]string{"user_path": "Users"}, `options.user_path`},
		{map[string]string{"filter": "displayName"}, `options.filter: "displayName"`},
		{map[string]string{"colour": "blue"}, `options.colour: unknown option`},
		{map[string]string{"map.attributes.title": "title..x"}, `options.map.attributes.title: "title..x" is not a SCIM attribute path`},
		{map[string]string{"map.attributes.Title": "title"}, `options.map.attributes.Title: "Title" is not an attribute name`},
		{map[string]string{"map.nickname": "nickName"}, `options.map.nickname: unknown account field`},
		{map[string]string{"map.email": "emails"}, `options.map.email: "emails" names the list emails`},
		{map[string]string{"map.attributes.site": "userName"}, `options.map.attributes.site: "userName" is managed by the connector`},
		{map[string]string{"map.attributes.site": `title[type eq "x"].value`}, `options.map.attributes.site: "title[type eq \"x\"].value" selects a type of title`},
		{map[string]string{"map.attributes.job": "title"}, `options.map.attributes.title: "title" is already the path of attributes.job`},
	} {
		_, err := Generic().WithOptions(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("WithOptions(%v) = %v, want an error containing %q", tc.opts, err, tc.want)
		}
	}
}

func TestWithOptionsApplies(t *testing.T) {
	p, err := Generic().WithOptions(map[string]string{
		"update": "put", "page_size": "25", "create_groups": "false", "etag": "off", "timeout": "5s",
		"filter": "userName, email", "user_agent": "acme/2", "group_path": "", "max_username_length": "20",
		"externalid_index": "true", "map.attributes.title": "", "map.attributes.locale": "locale", "map.attributes.manager": EnterpriseSchema + ":manager.managerId",
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Update != UpdatePut || p.PageSize != 25 || p.CreateGroups || p.ETag != ETagOff || p.Timeout != 5*time.Second ||
		!slices.Equal(p.Filters, []string{"userName", "email"}) || p.UserAgent != "acme/2" || p.GroupPath != "" || p.MaxUserNameLen != 20 ||
		!p.ExternalIDIndex {
		t.Fatalf("profile %+v", p)
	}
	c, err := New(Config{BaseURL: "https://scim.example.com/v2", Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Traits()
	if slices.Contains(tr.Fields, "attributes.title") || !slices.Contains(tr.Fields, "attributes.locale") || len(tr.MembershipKinds) != 0 {
		t.Fatalf("traits %+v: want title dropped, locale mapped, no groups", tr)
	}
	if Generic().Mapping["attributes.title"] != "title" {
		t.Fatal("WithOptions changed the Generic mapping it started from")
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ZAPIER_TOKEN": "env-token"}
	getenv := func(k string) string { return env[k] }

	c, err := Open("zapier", config.AppConfig{BaseURL: "https://zapier.com/scim/v2", TokenEnv: "ZAPIER_TOKEN", Rate: 5, Concurrency: 1}, getenv, "zapier", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile().Name != "zapier" || c.token != "env-token" || c.Traits().Rate != 5 || c.Traits().Concurrency != 1 {
		t.Fatalf("opened %s with rate %v concurrency %d", c.Profile().Name, c.Traits().Rate, c.Traits().Concurrency)
	}
	c, err = Open("acme", config.AppConfig{BaseURL: "https://acme.example/scim", TokenFile: tokenFile,
		Options: map[string]string{"profile": "zapier", "update": "put"}}, getenv, "generic", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile().Name != "zapier" || c.Profile().Update != UpdatePut || c.token != "file-token" {
		t.Fatalf("profile %s update %s", c.Profile().Name, c.Profile().Update)
	}

	for _, tc := range []struct {
		cfg  config.AppConfig
		want string
	}{
		{config.AppConfig{BaseURL: "https://a.example", TokenEnv: "MISSING"}, "MISSING (token_env) is empty"},
		{config.AppConfig{BaseURL: "https://a.example"}, "needs token_env or token_file"},
		{config.AppConfig{TokenEnv: "ZAPIER_TOKEN"}, "base_url is required"},
		{config.AppConfig{BaseURL: "ftp://a.example", TokenEnv: "ZAPIER_TOKEN"}, "base_url"},
		{config.AppConfig{BaseURL: "https://a.example", TokenEnv: "ZAPIER_TOKEN", Options: map[string]string{"profile": "okta"}}, `options.profile: "okta"`},
		{config.AppConfig{BaseURL: "https://a.example", TokenEnv: "ZAPIER_TOKEN", Options: map[string]string{"map.role": "roles"}}, "options.map.role"},
	} {
		_, err := Open("acme", tc.cfg, getenv, "generic", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "acme") {
			t.Errorf("Open(%+v) = %v, want an error naming app acme and containing %q", tc.cfg, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "env-token") {
			t.Errorf("error shows the token: %v", err)
		}
	}
}
