package engine

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/nic"
	"github.com/lvsbox/lvsbox/appliance/sysctl"
)

// NICStatus is one configured interface after the NIC pass: link, offloads, and
// what the NIC refused (conditions, not errors).
type NICStatus struct {
	Name       string          `json:"name"`
	MTU        int             `json:"mtu"`
	WantMTU    int             `json:"want_mtu,omitempty"`
	AdminUp    bool            `json:"admin_up"`
	OperState  string          `json:"oper_state,omitempty"`
	Features   []FeatureStatus `json:"features"`
	Conditions []string        `json:"conditions"`
	Changes    []string        `json:"changes,omitempty"`
	Errors     []string        `json:"errors,omitempty"`
}

// FeatureStatus is one offload feature of an interface.
type FeatureStatus struct {
	Policy  string `json:"policy"`
	Feature string `json:"feature"`
	Wanted  bool   `json:"wanted"`
	Actual  bool   `json:"actual"`
	Fixed   bool   `json:"fixed"`
	Present bool   `json:"present"`
}

// SysctlStatus is one sysctl lvsbox manages, with why it has its value.
type SysctlStatus struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Actual string `json:"actual"`
	Reason string `json:"reason"`
	Source string `json:"source"` // lvsbox or override
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
}

// compileNICs is the NIC policy of every configured interface: MTU, link up, and
// offloads (GRO, LRO and hardware GRO off on data interfaces unless set).
func compileNICs(c config.Config) []nic.Interface {
	var out []nic.Interface
	for _, in := range c.Interfaces {
		p := nic.Policy{GRO: in.Offload.GRO, LRO: in.Offload.LRO, GROHW: in.Offload.GROHW, GSO: in.Offload.GSO, TSO: in.Offload.TSO}
		if in.Role == config.RoleData {
			p = p.DirectorDefaults()
		}
		out = append(out, nic.Interface{Name: in.Name, MTU: in.MTU, Up: true, Offload: p})
	}
	return out
}

// compileSysctls is the input of the computed sysctls: services and their modes,
// the interfaces with their addresses (VRRP virtual addresses included), the IPVS
// options and the user's overrides.
func compileSysctls(c config.Config) sysctl.Input {
	in := sysctl.Input{Overrides: c.Sysctls, IPVS: sysctl.IPVS{SyncDaemon: c.IPVS.SyncDaemon.Enabled}}
	addrs := map[string]int{}
	for _, ifc := range c.Interfaces {
		addrs[ifc.Name] = len(in.Interfaces)
		in.Interfaces = append(in.Interfaces, sysctl.Interface{Name: ifc.Name, Addresses: append([]netip.Prefix(nil), ifc.Addresses...)})
	}
	for _, vi := range c.VRRPInstances {
		for _, va := range vi.VirtualAddresses {
			dev := va.Device
			if dev == "" {
				dev = vi.Interface
			}
			i, ok := addrs[dev]
			if !ok {
				addrs[dev] = len(in.Interfaces)
				in.Interfaces = append(in.Interfaces, sysctl.Interface{Name: dev})
				i = addrs[dev]
			}
			in.Interfaces[i].Addresses = append(in.Interfaces[i].Addresses, va.Address)
		}
	}
	for _, vs := range c.VirtualServices {
		s := sysctl.Service{Name: vs.Name, VIP: vs.Address, IPv6: vs.Is6(), Scheduler: vs.Scheduler,
			Forwarding: sysctl.Forwarding(vs.Forwarding)}
		if !vs.IsFwmark() {
			s.Protocol = string(vs.Protocol)
		}
		for _, rs := range vs.RealServers {
			if rs.AdminState == config.StateDisabled {
				continue
			}
			s.RealServers = append(s.RealServers, sysctl.RealServer{Address: rs.Address, Forwarding: sysctl.Forwarding(rs.Forwarding)})
		}
		in.Services = append(in.Services, s)
	}
	return in
}

// tune runs the NIC and sysctl passes. ipvsUp says whether IPVS is loaded: without
// it the net.ipv4.vs.* keys do not exist and are left for a later pass.
func (e *Engine) tune(ctx context.Context, d Desired, ipvsUp bool, res *PassResult) ([]NICStatus, []SysctlStatus) {
	var nics []NICStatus
	if e.o.NIC != nil && len(d.NICs) > 0 {
		if e.nic == nil {
			k, err := e.o.NIC()
			if err != nil {
				res.Errors = append(res.Errors, fmt.Sprintf("nic: %v", err))
			} else {
				e.nic = k
			}
		}
		if e.nic != nil {
			for _, r := range nic.Reconcile(ctx, e.nic, d.NICs) {
				nics = append(nics, nicStatus(r))
				for _, c := range r.Changes {
					res.Writes++
					res.TuneOps = append(res.TuneOps, fmt.Sprintf("nic %s: %s", r.Interface, c))
				}
				for _, err := range r.Errors {
					res.Errors = append(res.Errors, err.Error())
				}
			}
		}
	}
	if e.o.Sysctl == nil {
		return nics, nil
	}
	settings, err := sysctl.Desired(d.Sysctls)
	if err != nil {
		res.Errors = append(res.Errors, "sysctls: "+err.Error())
		return nics, nil
	}
	var apply []sysctl.Setting
	var pending []SysctlStatus
	for _, s := range settings {
		if !ipvsUp && strings.HasPrefix(s.Key, "net.ipv4.vs.") {
			pending = append(pending, SysctlStatus{Key: s.Key, Value: s.Value, Reason: s.Reason, Source: string(s.Source),
				Error: "waiting for IPVS (module ip_vs not loaded)"})
			continue
		}
		apply = append(apply, s)
	}
	r := e.sysctls.Reconcile(ctx, apply)
	for _, c := range r.Changes {
		res.Writes++
		res.TuneOps = append(res.TuneOps, fmt.Sprintf("sysctl %s %s -> %s", c.Key, c.From, c.To))
	}
	out := make([]SysctlStatus, 0, len(r.Status)+len(pending))
	for _, st := range r.Status {
		ss := SysctlStatus{Key: st.Key, Value: st.Value, Actual: st.Actual, Reason: st.Reason, Source: string(st.Source), OK: st.OK()}
		if st.Err != nil {
			ss.Error = st.Err.Error()
			res.Errors = append(res.Errors, st.Err.Error())
		}
		out = append(out, ss)
	}
	return nics, append(out, pending...)
}

func nicStatus(r nic.Result) NICStatus {
	st := NICStatus{Name: r.Interface, MTU: r.Link.MTU, WantMTU: r.WantMTU, AdminUp: r.Link.AdminUp, OperState: r.Link.OperState,
		Features: []FeatureStatus{}, Conditions: r.Conditions(), Changes: r.Changes}
	if st.Conditions == nil {
		st.Conditions = []string{}
	}
	for _, f := range r.Features {
		st.Features = append(st.Features, FeatureStatus{Policy: f.Policy, Feature: f.Feature, Wanted: f.Wanted, Actual: f.Actual, Fixed: f.Fixed, Present: f.Present})
	}
	for _, err := range r.Errors {
		st.Errors = append(st.Errors, err.Error())
	}
	return st
}

func (e *Engine) closeNIC() {
	if c, ok := e.nic.(interface{ Close() }); ok {
		c.Close()
	}
	e.nic = nil
}

// tunePass runs the NIC, sysctl and IPVS-globals passes when run is set; otherwise
// (incremental passes) it repeats their last errors and problems, so that a problem
// is not reported as resolved by a pass that did not look.
func (e *Engine) tunePass(ctx context.Context, d Desired, res *PassResult, run, ipvsUp bool) {
	if !run {
		res.Errors = append(res.Errors, e.tuneErrs...)
		res.Problems = append(res.Problems, e.tuneProblems...)
		return
	}
	nErr, nProb, nWrites := len(res.Errors), len(res.Problems), res.Writes
	e.nics, e.sysStat = e.tune(ctx, d, ipvsUp, res)
	if ipvsUp {
		e.globals = e.reconcileGlobals(ctx, d.IPVSGlobals, res)
	}
	if len(e.tuneErrs) > 0 {
		res.retryWrites += res.Writes - nWrites // the last tuning pass had failures: retries, not drift
	}
	e.tuneErrs = slices.Clone(res.Errors[nErr:])
	e.tuneProblems = slices.Clone(res.Problems[nProb:])
}
