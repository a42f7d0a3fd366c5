package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/lvsbox/lvsbox/appliance/api"
	"github.com/lvsbox/lvsbox/appliance/engine"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

const timeFormat = "2006-01-02 15:04:05Z07:00"

func writeStatus(w io.Writer, d api.Document) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "%s:\t"+format+"\n", append([]any{k}, args...)...)
	}
	line("host", "%s", d.Hostname)
	if d.Ready {
		line("state", "ready")
	} else {
		line("state", "NOT READY")
	}
	if r := d.Revision; r != nil {
		line("applied", "revision %d (%s)", r.Number, r.Time.UTC().Format(timeFormat))
	} else {
		line("applied", "nothing (empty configuration)")
	}
	if d.Config != nil {
		if r := d.Config.Revision; r != nil {
			line("stored", "revision %d by %s, %s: %s", r.Number, orDash(r.User), r.Time.UTC().Format(timeFormat), orDash(r.Comment))
		} else {
			line("stored", "no revision yet")
		}
		if p := d.Config.PendingConfirm; p != nil {
			line("PENDING", "revision %d rolls back in %s (at %s) unless confirmed: lvsbox config confirm %d",
				p.Revision, p.Remaining, p.ConfirmBy.UTC().Format(timeFormat), p.Revision)
		}
	}
	if d.IPVS.Available {
		reals := 0
		for _, s := range d.IPVS.Services {
			reals += len(s.Destinations)
		}
		line("ipvs", "%d services, %d real servers", len(d.IPVS.Services), reals)
	} else {
		line("ipvs", "unavailable: %s", d.IPVS.Error)
	}
	if p := d.LastPass; p != nil {
		line("last pass", "%s, %s, %d writes, %d errors (%d passes)", p.Time.UTC().Format(timeFormat), p.Duration, p.Writes, len(p.Errors), d.Passes)
	}
	if v := d.Version; v != nil {
		line("version", "%s (board %s, kernel %s, %s)", v.GitRevision, v.Board, v.KernelVersion, v.GoVersion)
	}
	tw.Flush()
	if len(d.Interfaces) > 0 {
		fmt.Fprintln(w, "interfaces:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, in := range d.Interfaces {
			state := "down"
			if in.Up {
				state = "up"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\tmtu %d\t%s\n", in.Name, state, orDash(in.MAC), in.MTU, strings.Join(in.Addresses, " "))
		}
		tw.Flush()
	}
	writeTuning(w, d.NICs, d.Sysctls)
	if d.Health != nil {
		writeHealth(w, d.Health)
	}
	if d.VRRP != nil {
		writeVRRP(w, d.VRRP)
	}
	if d.LastPass != nil && len(d.LastPass.Errors) > 0 {
		fmt.Fprintln(w, "problems:")
		for _, e := range d.LastPass.Errors {
			fmt.Fprintln(w, "  -", e)
		}
	}
}

// writeTuning prints the NIC pass (state, offloads that differ from the policy or
// are fixed, what the NIC refused) and the managed sysctls.
func writeTuning(w io.Writer, nics []engine.NICStatus, sysctls []engine.SysctlStatus) {
	if len(nics) > 0 {
		fmt.Fprintln(w, "nic tuning:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, n := range nics {
			link := "down"
			if n.AdminUp {
				link = "up"
			}
			if n.OperState != "" {
				link += "/" + n.OperState
			}
			mtu := strconv.Itoa(n.MTU)
			if n.WantMTU != 0 && n.WantMTU != n.MTU {
				mtu += " (want " + strconv.Itoa(n.WantMTU) + ")"
			}
			var feats []string
			for _, f := range n.Features {
				if !f.Present {
					continue
				}
				v := onOff(f.Actual)
				switch {
				case f.Actual != f.Wanted && f.Fixed:
					v += " (fixed, want " + onOff(f.Wanted) + ")"
				case f.Actual != f.Wanted:
					v += " (WANT " + onOff(f.Wanted) + ")"
				case f.Fixed:
					v += " (fixed)"
				}
				feats = append(feats, f.Feature+" "+v)
			}
			notes := append(append([]string(nil), n.Conditions...), n.Errors...)
			fmt.Fprintf(tw, "  %s\t%s\tmtu %s\t%s\t%s\n", n.Name, link, mtu, orDash(strings.Join(feats, ", ")), strings.Join(notes, "; "))
		}
		tw.Flush()
	}
	if len(sysctls) > 0 {
		fmt.Fprintln(w, "sysctls:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, s := range sysctls {
			state := "ok"
			if !s.OK {
				state = "MISMATCH (is " + orDash(s.Actual) + ")"
				if s.Error != "" {
					state = "ERROR: " + s.Error
				}
			}
			fmt.Fprintf(tw, "  %s\t= %s\t%s\t%s: %s\n", s.Key, s.Value, state, s.Source, s.Reason)
		}
		tw.Flush()
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// forwardName is ipvsadm's name of a forwarding method.
func forwardName(f string) string {
	switch f {
	case "nat":
		return "Masq"
	case "dr":
		return "Route"
	case "tun":
		return "Tunnel"
	case "local":
		return "Local"
	}
	return f
}

// schedFlags names scheduler flags the way ipvsadm does.
func schedFlags(sched string, flags uint32) []string {
	names := [3]string{"flag-1", "flag-2", "flag-3"}
	switch sched {
	case "sh":
		names = [3]string{"sh-fallback", "sh-port", "flag-3"}
	case "mh":
		names = [3]string{"mh-fallback", "mh-port", "flag-3"}
	}
	var out []string
	for i, bit := range []uint32{ipvs.FlagSched1, ipvs.FlagSched2, ipvs.FlagSched3} {
		if flags&bit != 0 {
			out = append(out, names[i])
		}
	}
	return out
}

// writeIPVS prints services in the layout of `ipvsadm -Ln`.
func writeIPVS(w io.Writer, svcs []engine.ServiceStatus) {
	fmt.Fprintln(w, "IP Virtual Server (kernel table as seen by lvsbox)")
	fmt.Fprintln(w, "Prot LocalAddress:Port Scheduler Flags")
	fmt.Fprintln(w, "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn")
	for _, s := range svcs {
		if s.FWMark != 0 {
			fmt.Fprintf(w, "FWM  %d %s", s.FWMark, s.Scheduler)
		} else {
			fmt.Fprintf(w, "%s  %s %s", strings.ToUpper(s.Protocol), net.JoinHostPort(s.Address, strconv.Itoa(int(s.Port))), s.Scheduler)
		}
		if s.Flags&ipvs.FlagPersistent != 0 {
			fmt.Fprintf(w, " persistent %d", s.Timeout)
		}
		if s.Flags&ipvs.FlagOnePacket != 0 {
			fmt.Fprint(w, " ops")
		}
		if f := schedFlags(s.Scheduler, s.Flags); len(f) > 0 {
			fmt.Fprint(w, " "+strings.Join(f, ","))
		}
		fmt.Fprintln(w)
		for _, d := range s.Destinations {
			fmt.Fprintf(w, "  -> %-28s %-7s %-6d %-10d %-10d\n", net.JoinHostPort(d.Address, strconv.Itoa(int(d.Port))),
				forwardName(d.Forwarding), d.Weight, d.ActiveConns, d.InactiveConns)
		}
	}
}

func revisionNotes(r api.RevisionInfo) string {
	var notes []string
	if r.RolledBackFrom != 0 {
		notes = append(notes, fmt.Sprintf("restores %d", r.RolledBackFrom))
	}
	if r.Pending() {
		notes = append(notes, "PENDING until "+r.ConfirmBy.UTC().Format(timeFormat))
	}
	if r.Confirmed {
		notes = append(notes, "confirmed")
	}
	if len(notes) == 0 {
		return ""
	}
	return " [" + strings.Join(notes, ", ") + "]"
}

func writeHistory(w io.Writer, revs []api.RevisionInfo) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REV\tTIME\tUSER\tCOMMENT")
	for _, r := range revs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s%s\n", r.Number, r.Time.UTC().Format(timeFormat), orDash(r.User), orDash(r.Comment), revisionNotes(r))
	}
	tw.Flush()
}

// compact renders a JSON value on one line.
func compact(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

func writeDiff(w io.Writer, d api.DiffResponse) {
	if len(d.Changes) == 0 {
		fmt.Fprintf(w, "no changes from revision %d to %d\n", d.From, d.To)
		return
	}
	for _, c := range d.Changes {
		switch c.Op {
		case "add":
			fmt.Fprintf(w, "+ %s: %s\n", c.Path, compact(c.New))
		case "remove":
			fmt.Fprintf(w, "- %s: %s\n", c.Path, compact(c.Old))
		default:
			fmt.Fprintf(w, "~ %s: %s -> %s\n", c.Path, compact(c.Old), compact(c.New))
		}
	}
}

func writeProblems(w io.Writer, prefix string, ps []api.Problem) {
	for _, p := range ps {
		if p.Path == "" {
			fmt.Fprintf(w, "%s%s\n", prefix, p.Message)
		} else {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, p.Path, p.Message)
		}
	}
}

func writeValidation(w io.Writer, v api.ValidateResponse) {
	if !v.Valid {
		fmt.Fprintf(w, "configuration is INVALID (%d problems):\n", len(v.Errors))
		writeProblems(w, "  ", v.Errors)
		return
	}
	fmt.Fprintln(w, "configuration is valid")
	writeProblems(w, "warning: ", v.Warnings)
	switch {
	case v.PlanError != "":
		fmt.Fprintf(w, "kernel changes: unknown (%s)\n", v.PlanError)
	case len(v.Changes) == 0:
		fmt.Fprintln(w, "kernel changes: none")
	default:
		fmt.Fprintf(w, "kernel changes (%d):\n", len(v.Changes))
		for _, c := range v.Changes {
			fmt.Fprintln(w, "  "+c)
		}
	}
}

func writeCommitted(w io.Writer, verb string, cr api.CommitResponse) {
	r := cr.Revision
	fmt.Fprintf(w, "%s revision %d%s\n", verb, r.Number, revisionNotes(r))
	if r.Pending() {
		fmt.Fprintf(w, "it rolls back at %s unless confirmed: lvsbox config confirm %d\n", r.ConfirmBy.UTC().Format(timeFormat), r.Number)
	}
	writeProblems(w, "warning: ", cr.Warnings)
}
