package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegistryServes(t *testing.T) {
	r := New()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "lvsbox_test_things_total", Help: "Things."})
	if err := r.Register(c); err != nil {
		t.Fatal(err)
	}
	c.Add(3)
	if err := r.Register(prometheus.NewCounter(prometheus.CounterOpts{Name: "lvsbox_test_things_total", Help: "Things."})); err == nil {
		t.Error("registering the same metric twice succeeded")
	}
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Result().Body)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, body)
	}
	for _, want := range []string{"lvsbox_test_things_total 3", "go_goroutines ", "process_resident_memory_bytes "} {
		if !strings.Contains(string(body), want) {
			t.Errorf("answer lacks %q", want)
		}
	}
}
