package engine

import (
	"context"
	"fmt"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// PlanIPVS lists, in order, the IPVS writes a pass would make to bring a kernel holding
// observed to cfg. It is pure.
func PlanIPVS(cfg config.Config, observed []ipvs.ServiceState) []string {
	ops := ipvs.Diff(Compile(cfg).IPVS, observed)
	out := make([]string, 0, len(ops))
	for _, op := range ops {
		out = append(out, op.String())
	}
	return out
}

// Planner answers "what would applying this configuration change in the kernel now"
// for dry runs. It reads the IPVS table through its own handle (opened per call, so
// it never shares the engine's) and writes nothing.
type Planner struct {
	OpenIPVS func() (ipvs.Kernel, error)
}

// Plan observes the kernel and returns PlanIPVS against it.
func (p Planner) Plan(ctx context.Context, cfg config.Config) ([]string, error) {
	k, err := p.OpenIPVS()
	if err != nil {
		return nil, err
	}
	if c, ok := k.(interface{ Close() }); ok {
		defer c.Close()
	}
	observed, err := k.Services(ctx)
	if err != nil {
		return nil, fmt.Errorf("ipvs: list services: %w", err)
	}
	return PlanIPVS(cfg, observed), nil
}
