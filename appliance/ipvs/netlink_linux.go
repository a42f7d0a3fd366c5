package ipvs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvsnl"
)

// ErrUnavailable means the running kernel has no IPVS (module ip_vs not loaded, or
// not built): the generic netlink family "IPVS" does not exist.
var ErrUnavailable = errors.New("IPVS is not available in this kernel (generic netlink family IPVS missing; is ip_vs loaded?)")

// Netlink is the real Kernel: lvsbox's own generic netlink client (package ipvsnl).
// It implements Kernel, Batcher, ServiceReader and Globals, and is safe for
// concurrent use. After a transport failure it reopens its socket on the next call.
type Netlink struct {
	mu  sync.Mutex
	cfg ipvsnl.Config
	c   *ipvsnl.Conn
}

// OpenNetlink returns a Kernel for the current network namespace, or an error wrapping
// ErrUnavailable when the kernel has no IPVS (the caller may simply retry later).
func OpenNetlink() (*Netlink, error) { return OpenNetlinkConfig(ipvsnl.Config{}) }

// OpenNetlinkConfig is OpenNetlink with a network namespace or batch window.
func OpenNetlinkConfig(cfg ipvsnl.Config) (*Netlink, error) {
	n := &Netlink{cfg: cfg}
	if _, err := n.conn(); err != nil {
		return nil, err
	}
	return n, nil
}

// conn returns the connection, reopening it after a transport failure.
func (n *Netlink) conn() (*ipvsnl.Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.c != nil && n.c.Err() == nil {
		return n.c, nil
	}
	if n.c != nil {
		n.c.Close()
		n.c = nil
	}
	c, err := ipvsnl.Dial(n.cfg)
	if errors.Is(err, ipvsnl.ErrNotAvailable) {
		return nil, fmt.Errorf("ipvs: %w", ErrUnavailable)
	}
	if err != nil {
		return nil, fmt.Errorf("ipvs: %w", err)
	}
	n.c = c
	return c, nil
}

// Conn returns the underlying client (for tools that need raw kernel access).
func (n *Netlink) Conn() (*ipvsnl.Conn, error) { return n.conn() }

// Close releases the netlink socket.
func (n *Netlink) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.c != nil {
		n.c.Close()
		n.c = nil
	}
}

// Services lists every service (one dump) and the destinations of each (one dump
// per service: the kernel has no dump of all destinations), with their stats.
func (n *Netlink) Services(ctx context.Context) ([]ServiceState, error) {
	c, err := n.conn()
	if err != nil {
		return nil, err
	}
	svcs, err := c.Services(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ServiceState, 0, len(svcs))
	for _, s := range svcs {
		st, err := n.withDests(ctx, c, s)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (n *Netlink) withDests(ctx context.Context, c *ipvsnl.Conn, s ipvsnl.Service) (ServiceState, error) {
	st := ServiceState{Service: fromNLService(s), Stats: fromNLStats(s.Stats)}
	dsts, err := c.Destinations(ctx, s)
	if err != nil {
		return ServiceState{}, fmt.Errorf("list destinations of %s: %w", st.Key, err)
	}
	st.Destinations = make([]Destination, 0, len(dsts))
	for _, d := range dsts {
		st.Destinations = append(st.Destinations, fromNLDest(d))
	}
	return st, nil
}

// Service reads one service and its destinations (two round trips).
func (n *Netlink) Service(ctx context.Context, k ServiceKey) (ServiceState, bool, error) {
	c, err := n.conn()
	if err != nil {
		return ServiceState{}, false, err
	}
	s, err := c.Service(ctx, toNLKey(k))
	if errors.Is(err, syscall.ESRCH) {
		return ServiceState{}, false, nil
	}
	if err != nil {
		return ServiceState{}, false, err
	}
	st, err := n.withDests(ctx, c, s)
	return st, err == nil, err
}

// Apply writes ops pipelined (see ipvsnl.Conn.Apply).
func (n *Netlink) Apply(ctx context.Context, ops []Op) []error {
	c, err := n.conn()
	if err != nil {
		errs := make([]error, len(ops))
		for i := range errs {
			errs[i] = fmt.Errorf("%w: %w", ErrNotSent, err)
		}
		return errs
	}
	reqs := make([]ipvsnl.Request, len(ops))
	for i, op := range ops {
		reqs[i] = toNLRequest(op)
	}
	errs := c.Apply(ctx, reqs)
	for i, err := range errs {
		if errors.Is(err, ipvsnl.ErrNotSent) {
			errs[i] = fmt.Errorf("%w: %w", ErrNotSent, err)
		}
	}
	return errs
}

func (n *Netlink) do(ctx context.Context, op Op) error { return n.Apply(ctx, []Op{op})[0] }

// AddService creates a service (IPVS_CMD_NEW_SERVICE).
func (n *Netlink) AddService(ctx context.Context, s Service) error {
	return n.do(ctx, Op{Kind: AddService, Service: s})
}

// UpdateService edits a service in place (IPVS_CMD_SET_SERVICE).
func (n *Netlink) UpdateService(ctx context.Context, s Service) error {
	return n.do(ctx, Op{Kind: UpdateService, Service: s})
}

// DeleteService removes a service and its destinations (IPVS_CMD_DEL_SERVICE).
func (n *Netlink) DeleteService(ctx context.Context, k ServiceKey) error {
	return n.do(ctx, Op{Kind: DeleteService, Service: Service{Key: k}})
}

// AddDestination adds a destination (IPVS_CMD_NEW_DEST).
func (n *Netlink) AddDestination(ctx context.Context, k ServiceKey, d Destination) error {
	return n.do(ctx, Op{Kind: AddDestination, Service: Service{Key: k}, Dest: d})
}

// UpdateDestination edits a destination in place (IPVS_CMD_SET_DEST).
func (n *Netlink) UpdateDestination(ctx context.Context, k ServiceKey, d Destination) error {
	return n.do(ctx, Op{Kind: UpdateDestination, Service: Service{Key: k}, Dest: d})
}

// DeleteDestination removes a destination (IPVS_CMD_DEL_DEST).
func (n *Netlink) DeleteDestination(ctx context.Context, k ServiceKey, d DestinationKey) error {
	return n.do(ctx, Op{Kind: DeleteDestination, Service: Service{Key: k}, Dest: Destination{Key: d}})
}

// Info returns the IPVS version and connection table size (IPVS_CMD_GET_INFO).
func (n *Netlink) Info(ctx context.Context) (Info, error) {
	c, err := n.conn()
	if err != nil {
		return Info{}, err
	}
	i, err := c.Info(ctx)
	if err != nil {
		return Info{}, err
	}
	return Info{Version: i.VersionString(), ConnTabSize: int(i.ConnTabSize)}, nil
}

// Timeouts reads the connection timeouts (IPVS_CMD_GET_CONFIG).
func (n *Netlink) Timeouts(ctx context.Context) (Timeouts, error) {
	c, err := n.conn()
	if err != nil {
		return Timeouts{}, err
	}
	t, err := c.Timeouts(ctx)
	if err != nil {
		return Timeouts{}, err
	}
	s := func(v uint32) time.Duration { return time.Duration(v) * time.Second }
	return Timeouts{TCP: s(t.TCP), TCPFin: s(t.TCPFin), UDP: s(t.UDP)}, nil
}

// SetTimeouts sets the non-zero timeouts (IPVS_CMD_SET_CONFIG), rounded down to
// whole seconds.
func (n *Netlink) SetTimeouts(ctx context.Context, t Timeouts) error {
	c, err := n.conn()
	if err != nil {
		return err
	}
	s := func(d time.Duration) uint32 { return uint32(d / time.Second) }
	return c.SetTimeouts(ctx, ipvsnl.Timeouts{TCP: s(t.TCP), TCPFin: s(t.TCPFin), UDP: s(t.UDP)})
}

// SyncDaemons lists the running sync daemons (IPVS_CMD_GET_DAEMON).
func (n *Netlink) SyncDaemons(ctx context.Context) ([]SyncDaemon, error) {
	c, err := n.conn()
	if err != nil {
		return nil, err
	}
	ds, err := c.Daemons(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SyncDaemon, 0, len(ds))
	for _, d := range ds {
		out = append(out, SyncDaemon{State: SyncState(d.State), Interface: d.Interface, SyncID: uint8(d.SyncID),
			Group: d.Group, Port: d.Port, TTL: d.TTL, MaxLen: d.MaxLen})
	}
	return out, nil
}

// StartSyncDaemon starts a sync daemon (IPVS_CMD_NEW_DAEMON).
func (n *Netlink) StartSyncDaemon(ctx context.Context, d SyncDaemon) error {
	c, err := n.conn()
	if err != nil {
		return err
	}
	return c.StartDaemon(ctx, ipvsnl.Daemon{State: uint32(d.State), Interface: d.Interface, SyncID: uint32(d.SyncID),
		Group: d.Group, Port: d.Port, TTL: d.TTL, MaxLen: d.MaxLen})
}

// StopSyncDaemon stops the sync daemon of state s (IPVS_CMD_DEL_DAEMON).
func (n *Netlink) StopSyncDaemon(ctx context.Context, s SyncState) error {
	c, err := n.conn()
	if err != nil {
		return err
	}
	return c.StopDaemon(ctx, uint32(s))
}

var (
	_ Kernel        = (*Netlink)(nil)
	_ Batcher       = (*Netlink)(nil)
	_ ServiceReader = (*Netlink)(nil)
	_ Globals       = (*Netlink)(nil)
)

// Conversions between our types and the kernel's (pure; tested without a kernel).

func family(f uint8) uint16 {
	if f == 4 {
		return ipvsnl.AFInet
	}
	return ipvsnl.AFInet6
}

func toNLKey(k ServiceKey) ipvsnl.Service {
	s := ipvsnl.Service{Family: family(k.Family), FWMark: k.FWMark}
	if k.FWMark == 0 {
		s.Protocol, s.Addr, s.Port = uint16(k.Protocol), k.Addr, k.Port
	}
	return s
}

func toNLService(s Service) ipvsnl.Service {
	ns := toNLKey(s.Key)
	ns.Scheduler = s.Scheduler
	ns.PE = s.PE
	ns.Flags = s.Flags
	ns.Timeout = s.Timeout
	ns.Netmask = ipvsnl.MaskFromPrefix(ns.Family, int(s.Netmask))
	return ns
}

func fromNLService(ns ipvsnl.Service) Service {
	fam := uint8(6)
	if ns.Family == ipvsnl.AFInet {
		fam = 4
	}
	s := Service{
		Key:       ServiceKey{FWMark: ns.FWMark, Family: fam},
		Scheduler: ns.Scheduler,
		PE:        ns.PE,
		Flags:     ns.Flags &^ ipvsnl.SvcFlagHashed,
		Timeout:   ns.Timeout,
	}
	if bits, ok := ipvsnl.PrefixFromMask(ns.Family, ns.Netmask); ok {
		s.Netmask = uint8(bits)
	} // else a non-contiguous mask, never what we write: 0, so Diff updates it
	if ns.FWMark == 0 {
		s.Key.Protocol = Protocol(ns.Protocol)
		s.Key.Addr = ns.Addr.Unmap()
		s.Key.Port = ns.Port
	}
	return s
}

func toNLDest(d Destination) ipvsnl.Destination {
	return ipvsnl.Destination{
		Family:     ipvsnl.AFOf(d.Key.Addr),
		Addr:       d.Key.Addr,
		Port:       d.Key.Port,
		FwdMethod:  forwardingToKernel(d.Forwarding),
		Weight:     int32(d.Weight),
		UThreshold: d.UpperThreshold,
		LThreshold: d.LowerThreshold,
		TunType:    uint8(d.TunnelType),
		TunPort:    d.TunnelPort,
		TunFlags:   d.TunnelFlags,
	}
}

func fromNLDest(nd ipvsnl.Destination) Destination {
	addr := nd.Addr
	if addr.Is4In6() {
		addr = netip.AddrFrom4(addr.As4())
	}
	return Destination{
		Key:            DestinationKey{Addr: addr, Port: nd.Port},
		Forwarding:     forwardingFromKernel(nd.FwdMethod),
		Weight:         int(nd.Weight),
		UpperThreshold: nd.UThreshold,
		LowerThreshold: nd.LThreshold,
		TunnelType:     TunnelType(nd.TunType),
		TunnelPort:     nd.TunPort,
		TunnelFlags:    nd.TunFlags,
		ActiveConns:    int(nd.ActiveConns),
		InactiveConns:  int(nd.InactConns),
		PersistConns:   int(nd.PersistConns),
		Stats:          fromNLStats(nd.Stats),
	}
}

func fromNLStats(s ipvsnl.Stats) Stats {
	return Stats{Connections: s.Conns, InPackets: s.InPkts, OutPackets: s.OutPkts, InBytes: s.InBytes, OutBytes: s.OutBytes,
		ConnectionRate: s.CPS, InPacketRate: s.InPPS, OutPacketRate: s.OutPPS, InByteRate: s.InBPS, OutByteRate: s.OutBPS}
}

func toNLRequest(op Op) ipvsnl.Request {
	r := ipvsnl.Request{Service: toNLService(op.Service)}
	switch op.Kind {
	case AddService:
		r.Cmd = ipvsnl.CmdNewService
	case UpdateService:
		r.Cmd = ipvsnl.CmdSetService
	case DeleteService:
		r.Cmd = ipvsnl.CmdDelService
	case AddDestination:
		r.Cmd, r.Dest = ipvsnl.CmdNewDest, toNLDest(op.Dest)
	case UpdateDestination:
		r.Cmd, r.Dest = ipvsnl.CmdSetDest, toNLDest(op.Dest)
	case DeleteDestination:
		r.Cmd, r.Dest = ipvsnl.CmdDelDest, toNLDest(op.Dest)
	}
	return r
}

// forwardingToKernel maps our method to IP_VS_CONN_F_MASQ / DROUTE / TUNNEL.
func forwardingToKernel(f Forwarding) uint32 {
	switch f {
	case DirectRoute:
		return ipvsnl.FwdDirect
	case Tunnel:
		return ipvsnl.FwdTunnel
	case Local:
		return ipvsnl.FwdLocalNode
	}
	return ipvsnl.FwdMasq
}

func forwardingFromKernel(flags uint32) Forwarding {
	switch flags & ipvsnl.FwdMask {
	case ipvsnl.FwdMasq:
		return NAT
	case ipvsnl.FwdDirect:
		return DirectRoute
	case ipvsnl.FwdTunnel:
		return Tunnel
	case ipvsnl.FwdLocalNode:
		return Local
	}
	return Forwarding(100 + flags&ipvsnl.FwdMask) // bypass: never desired
}
