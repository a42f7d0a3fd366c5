package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/lvsbox/lvsbox/appliance/vrrpd"
)

// writeVRRP prints the VRRP instances as a table, then the last transition
// of each and the problems.
func writeVRRP(w io.Writer, v *vrrpd.Status) {
	if len(v.Instances) == 0 && len(v.Errors) == 0 {
		return
	}
	fmt.Fprintf(w, "vrrp: revision %d\n", v.Revision)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  INSTANCE\tIF\tVRID\tSTATE\tPRIO\tMASTER\tVIPS\tSENT\tRECV\tTRANS\tSINCE")
	for _, in := range v.Instances {
		state := in.State
		if in.Fault != "" {
			state += " (" + in.Fault + ")"
		}
		if in.HeldBySync {
			state += " (held by sync group)"
		}
		prio := strconv.Itoa(int(in.Priority))
		if in.Priority != in.BasePriority {
			prio += "/" + strconv.Itoa(int(in.BasePriority))
		}
		vips := make([]string, 0, len(in.VIPs))
		for _, p := range in.VIPs {
			vips = append(vips, p.String())
		}
		held := ""
		if in.VIPsHeld {
			held = " (held)"
		}
		master := "-"
		if in.MasterAddr.IsValid() {
			master = in.MasterAddr.String()
		}
		since := "-"
		if !in.Since.IsZero() {
			since = in.Since.UTC().Format(timeFormat)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\t%s%s\t%d\t%d\t%d\t%s\n", in.Name, in.Interface, in.VRID, state, prio, master,
			strings.Join(vips, ","), held, in.Counters.AdvertsSent, in.Counters.AdvertsReceived, len(in.Transitions), since)
	}
	tw.Flush()
	for _, in := range v.Instances {
		if n := len(in.Transitions); n > 0 {
			t := in.Transitions[n-1]
			fmt.Fprintf(w, "  %s: last transition %s -> %s (%s) at %s\n", in.Name, t.From, t.To, t.Reason, t.At.UTC().Format(timeFormat))
		}
		if in.AddrError != "" {
			fmt.Fprintf(w, "  %s: ADDRESS ERROR: %s\n", in.Name, in.AddrError)
		}
		for _, t := range in.Tracking {
			fmt.Fprintf(w, "  %s: tracks %s %s (weight %d): %s, delta %+d\n", in.Name, t.Kind, t.Name, t.Weight, t.State, t.Delta)
		}
	}
	for _, e := range v.Errors {
		fmt.Fprintln(w, "  NOT RUNNING:", e)
	}
	for _, e := range v.Warnings {
		fmt.Fprintln(w, "  warning:", e)
	}
}
