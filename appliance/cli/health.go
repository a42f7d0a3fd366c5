package cli

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lvsbox/lvsbox/appliance/healthd"
)

// writeHealth prints the health part of the status: one line per virtual service
// (quorum, sorry server) and a table of its real servers.
func writeHealth(w io.Writer, h *healthd.Status) {
	fmt.Fprintf(w, "health: %d probes for %d checked real servers\n", h.Probes, h.CheckedRealServers)
	if h.Error != "" {
		fmt.Fprintf(w, "  CHECKS NOT UPDATED: %s\n", h.Error)
	}
	for _, s := range h.Services {
		quorum := "quorum up"
		if !s.QuorumUp {
			quorum = "QUORUM LOST"
		}
		line := fmt.Sprintf("  %s: %s, %d of %d real servers up, up weight %d (minimum %d", s.Name, quorum, s.UpServers, s.Servers, s.UpWeight, s.MinimumWeight)
		if s.Hysteresis > 0 {
			line += fmt.Sprintf(" ± %d", s.Hysteresis)
		}
		line += ")"
		if ss := s.Sorry; ss != nil {
			state := "standby"
			if ss.Active {
				state = "ACTIVE"
			}
			line += fmt.Sprintf(", sorry server %s %s", net.JoinHostPort(ss.Address, strconv.Itoa(int(ss.Port))), state)
		}
		if v := s.VRRP; v != nil {
			switch {
			case v.Fault:
				line += ", VRRP: FAULT"
			case v.PriorityDelta != 0:
				line += fmt.Sprintf(", VRRP priority %+d", v.PriorityDelta)
			}
		}
		fmt.Fprintln(w, line)
		if len(s.RealServers) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "    REAL SERVER\tSTATE\tIN TABLE\tCHECK\tFOR\tFLAPS\tLAST RESULT")
		for _, rs := range s.RealServers {
			table := "no"
			if rs.InTable {
				table = fmt.Sprintf("weight %d", rs.Weight)
			}
			state := rs.State
			if state == "down" || state == "error" {
				state = strings.ToUpper(state)
			}
			if rs.AdminState == "drain" {
				state += ", drain"
			}
			check, since, flaps, last := "-", "-", "-", "-"
			if c := rs.Check; c != nil {
				check = c.Type
				if c.Target != net.JoinHostPort(rs.Address, strconv.Itoa(int(rs.Port))) {
					check += " " + c.Target
				}
				since = (time.Duration(c.InStateSeconds) * time.Second).String()
				flaps = strconv.Itoa(c.Flaps)
				if c.LastResult != "" {
					last = c.LastResult
				}
			}
			if rs.Error != "" {
				last = rs.Error
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\t%s\n", net.JoinHostPort(rs.Address, strconv.Itoa(int(rs.Port))),
				state, table, check, since, flaps, last)
		}
		tw.Flush()
	}
}
