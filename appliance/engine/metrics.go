package engine

import (
	"context"
	"maps"
	"sync"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvsmetrics"
)

// ServiceNames returns the configured names of the IPVS services of the last pass.
// Safe for concurrent use.
func (e *Engine) ServiceNames() map[ipvs.ServiceKey]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.names)
}

// MetricsSource is the /metrics source of the IPVS collector: it reads the kernel
// table on each scrape through its own handle (opened on first use with open and
// reopened after a failure, so scrapes never wait for the reconciler) and names the
// services as the engine's last pass did.
func (e *Engine) MetricsSource(open func() (ipvs.Kernel, error)) ipvsmetrics.Source {
	var mu sync.Mutex
	var k ipvs.Kernel
	return func(ctx context.Context) (ipvsmetrics.Snapshot, error) {
		mu.Lock()
		defer mu.Unlock()
		if k == nil {
			var err error
			if k, err = open(); err != nil {
				return ipvsmetrics.Snapshot{}, err
			}
		}
		svcs, err := k.Services(ctx)
		if err != nil {
			if c, ok := k.(interface{ Close() }); ok {
				c.Close()
			}
			k = nil
			return ipvsmetrics.Snapshot{}, err
		}
		return ipvsmetrics.Snapshot{Services: svcs, Names: e.ServiceNames()}, nil
	}
}
