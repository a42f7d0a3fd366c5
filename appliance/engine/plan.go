package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// PlanIPVS lists, in order, the IPVS writes a pass would make to bring a kernel holding
// observed to cfg. It is pure.
func PlanIPVS(cfg config.Config, observed []ipvs.ServiceState) []string {
	return planIPVS(Compile(cfg), observed)
}

// PlanIPVSWithHealth is PlanIPVS with the health verdicts v applied first.
func PlanIPVSWithHealth(cfg config.Config, observed []ipvs.ServiceState, v Verdicts) []string {
	d := Compile(cfg)
	d.ApplyHealth(v)
	return planIPVS(d, observed)
}

func planIPVS(d Desired, observed []ipvs.ServiceState) []string {
	// A real server removed from the configuration is first drained (weight 0).
	desired, _ := applyDrain(d.IPVS, d, observed, drainSet{}, time.Now(), d.DrainTime)
	ops := ipvs.Diff(desired, observed)
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
	// Health, when set, previews the health verdicts of the configuration, so that
	// the plan shows down servers as the engine would program them.
	Health interface {
		Preview(cfg config.Config) Verdicts
	}
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
	if p.Health != nil {
		return PlanIPVSWithHealth(cfg, observed, p.Health.Preview(cfg)), nil
	}
	return PlanIPVS(cfg, observed), nil
}
