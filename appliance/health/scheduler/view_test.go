package scheduler

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/healthtest"
)

func TestViews(t *testing.T) {
	w := newWorld(t, healthtest.FixedRand{})
	w.apply(sub("web", rs1, http), sub("api", rs1, http))
	w.results[rs1] = health.Result{OK: false, Latency: 12 * time.Millisecond, Text: "HTTP 503 from 198.51.100.11:80 in 12 ms"}
	views := w.core.Snapshot(w.now).Views()
	if len(views) != 2 || views[0].State != "pending" || views[0].LastCheck != nil {
		t.Fatalf("before any check: %+v", views)
	}
	delete(w.results, rs1)
	w.run(2 * time.Second)
	w.results[rs1] = health.Result{OK: false, Latency: 12 * time.Millisecond, Text: "HTTP 503 from 198.51.100.11:80 in 12 ms"}
	w.run(2 * time.Second)
	v := w.core.Snapshot(w.now).Views()[1] // web sorts after api
	if v.ID != "web/"+rs1.String() || v.State != "down" || v.SharedBy != 2 || v.LatencyMS != 12 || v.Flaps != 2 || len(v.History) != 2 {
		t.Fatalf("view %+v", v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"state":"down"`, `"last_result":"HTTP 503 from 198.51.100.11:80 in 12 ms"`, `"reason":"2 failed checks, last: HTTP 503 from 198.51.100.11:80 in 12 ms"`, `"real_server":"198.51.100.11:80"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}
