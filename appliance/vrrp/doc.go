// Package vrrp is the pure protocol core of lvsbox's VRRP: the advertisement
// codec for VRRP v2 (RFC 3768) and v3 (RFC 5798) over IPv4 and IPv6, the
// receive checks, and the RFC 5798 state machine.
//
// It owns:
//   - Packet, Marshal and Unmarshal, and the checksums (v2: the VRRP message
//     only; v3: with the IPv4/IPv6 pseudo-header);
//   - Config (one virtual router instance) and its validation, the timer
//     formulas (Skew_Time, Master_Down_Interval) and tracking priority
//     arithmetic;
//   - Decode and Config.Check: every receive check as a pure function with a
//     distinct Reason (the counter key) per failure;
//   - Machine: Initialize/Backup/Master/Fault driven by explicit inputs
//     (Start, Shutdown, Receive, Tick, SetPriority, SetFault) that carry the
//     current time; it returns actions (send an advertisement, take or release
//     the virtual addresses) and transition records.
//
// It must not open sockets, touch netlink or addresses, read the clock
// (time.Now), sleep, start goroutines or log: the caller owns sockets,
// addresses, timers (Machine.Deadline says when to call Tick) and logging.
// See docs/vrrp.md for the state/event/action table and the receive checks.
package vrrp
