package metrics_test

import (
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tenure-id/tenure/pkg/directory/sqlstore"
	"github.com/tenure-id/tenure/pkg/directory/sqlstore/sqlstoretest"
)

// openStore is a migrated SQLite store in a temp file.
func openStore(t *testing.T, opt sqlstore.Options) *sqlstore.Store {
	t.Helper()
	return sqlstoretest.SQLite(t, opt)
}

// exposition is one scrape, parsed.
type exposition map[string]*dto.MetricFamily

// scrape GETs base/metrics and parses the text exposition.
func scrape(t *testing.T, base, token string) exposition {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the sample of name whose labels include want; ok is false when there is none.
func (e exposition) value(name string, want map[string]string) (float64, bool) {
	f, ok := e[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// series is one expected sample.
type series struct {
	name   string
	labels map[string]string
	want   float64
}

func (e exposition) check(t *testing.T, want []series) {
	t.Helper()
	for _, s := range want {
		got, ok := e.value(s.name, s.labels)
		if !ok {
			t.Errorf("%s%v: no such series", s.name, s.labels)
			continue
		}
		if got != s.want {
			t.Errorf("%s%v = %v, want %v", s.name, s.labels, got, s.want)
		}
	}
}
