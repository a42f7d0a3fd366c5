package keepalived

import (
	"strings"

	"github.com/lvsbox/lvsbox/appliance/importer"
)

// Block names used to look keywords up.
const (
	blockTop      = "the top level"
	blockGlobal   = "global_defs"
	blockInstance = "vrrp_instance"
	blockSync     = "vrrp_sync_group"
	blockScript   = "vrrp_script"
	blockVS       = "virtual_server"
	blockRS       = "real_server"
	blockChecker  = "checker"
	blockHTTP     = "HTTP_GET"
	blockURL      = "url"
	blockSMTP     = "SMTP_CHECK"
	blockUDP      = "UDP_CHECK"
	blockDNS      = "DNS_CHECK"
	blockMisc     = "MISC_CHECK"
)

// reason says why a known keepalived keyword is not mapped.
type reason struct {
	sev importer.Severity
	why string
}

// Reasons shared by many keywords.
var (
	whyNotify = reason{importer.Warning, "not mapped: lvsbox runs no notify scripts and sends no e-mail, SNMP, D-Bus or FIFO notifications; follow state changes on the API event stream (/api/v1/events) or in syslog"}
	whyTuning = reason{importer.Info, "not mapped: keepalived process or parser tuning, which lvsbox has no use for"}
	whyVRRP   = reason{importer.Warning, "not mapped: VRRP fine-tuning lvsbox does not offer; lvsbox follows RFC 5798/3768 defaults here"}
	whyTrack  = reason{importer.Warning, "not mapped: lvsbox tracks interfaces, virtual services and vrrp_scripts only (rewrite this as a vrrp_script)"}
	whyFW     = reason{importer.Warning, "not mapped: lvsbox installs no iptables/nftables rules for VRRP or IPVS"}
	whyNS     = reason{importer.Warning, "not mapped: lvsbox runs in one network namespace"}
	whyWarmup = reason{importer.Warning, "not mapped: lvsbox starts probing at once (no warmup delay)"}
	whyAlpha  = reason{importer.Warning, "not mapped: lvsbox's health checker decides a new server's first state from its rise/fall counts (keepalived's alpha starts servers as down)"}
	whySNMP   = reason{importer.Info, "not mapped: lvsbox has no SNMP agent"}
	whyHTTPx  = reason{importer.Warning, "not mapped: lvsbox's HTTP check has no such option"}
)

// unmapped lists, per block, the keepalived keywords the importer knows and does
// not map (anything else a block holds that the mapping does not handle is
// reported as not a keepalived keyword).
var unmapped = map[string]map[string]reason{
	blockTop: {
		"static_rules":             {importer.Warning, "not mapped: lvsbox has no policy routing rules"},
		"garp_group":               whyVRRP,
		"linkbeat_interfaces":      whyTuning,
		"vrrp_track_process":       whyTrack,
		"vrrp_track_file":          whyTrack,
		"track_file":               whyTrack,
		"track_group":              whyTrack,
		"bfd_instance":             {importer.Warning, "not mapped: lvsbox has no BFD"},
		"interface_up_down_delays": whyVRRP,
		"SSL":                      {importer.Warning, "not mapped: set client_cert/client_key (and verify) on the https checks instead"},
		"net_namespace":            whyNS,
		"net_namespace_ipvs":       whyNS,
		"namespace_with_ipsets":    whyNS,
		"instance":                 whyTuning,
		"use_pid_dir":              whyTuning,
		"linkbeat_use_polling":     whyTuning,
		"child_wait_time":          whyTuning,
		"vrrp_rlimit_rtime":        whyTuning,
		"checker_rlimit_rtime":     whyTuning,
		"bfd_rlimit_rtime":         whyTuning,
	},
	blockInstance: {
		"no_virtual_ipaddress":       {importer.Error, "not mapped: an lvsbox VRRP instance needs at least one virtual address"},
		"virtual_rules":              {importer.Warning, "not mapped: lvsbox has no policy routing rules"},
		"track_file":                 whyTrack,
		"track_process":              whyTrack,
		"track_bfd":                  whyTrack,
		"dont_track_primary":         {importer.Warning, "not mapped: lvsbox always tracks the instance's own interface"},
		"auth_hmac":                  {importer.Error, "not mapped: lvsbox has no HMAC authentication for VRRP"},
		"use_vmac_addr":              whyVRRP,
		"vmac_xmit_base":             whyVRRP,
		"use_ipvlan":                 {importer.Warning, "not mapped: lvsbox puts the virtual MAC on a macvlan device (vmac), not on ipvlan"},
		"vrf":                        {importer.Warning, "not mapped: lvsbox has no VRFs"},
		"mcast_dst_ip":               {importer.Warning, "not mapped: lvsbox sends multicast adverts to 224.0.0.18 / ff02::12"},
		"track_src_ip":               whyVRRP,
		"unicast_ttl":                whyVRRP,
		"unicast_fault_no_peer":      whyVRRP,
		"check_unicast_src":          whyVRRP,
		"old_unicast_checksum":       whyVRRP,
		"native_ipv6":                whyVRRP,
		"promote_secondaries":        whyVRRP,
		"linkbeat_use_polling":       whyTuning,
		"v3_checksum_as_v2":          whyVRRP,
		"skip_check_adv_addr":        whyVRRP,
		"garp_master_delay":          {importer.Warning, "not mapped: lvsbox sends one burst of gratuitous ARPs on becoming master (garp.count, garp.interval) and repeats one every garp.refresh; there is no second burst"},
		"garp_master_refresh_repeat": whyVRRP,
		"garp_lower_prio_delay":      whyVRRP,
		"garp_lower_prio_repeat":     whyVRRP,
		"garp_extra_if":              whyVRRP,
		"vmac_garp_intvl":            whyVRRP,
		"down_timer_adverts":         whyVRRP,
		"timer_expired_backup":       whyVRRP,
		"thread_timer_expired":       whyVRRP,
		"lower_prio_no_advert":       whyVRRP,
		"higher_prio_send_advert":    whyVRRP,
		"owner_ignore_adverts":       whyVRRP,
		"kernel_rx_buf_size":         whyTuning,
		"debug":                      whyTuning,
		"notify":                     whyNotify,
		"notify_master":              whyNotify,
		"notify_backup":              whyNotify,
		"notify_fault":               whyNotify,
		"notify_stop":                whyNotify,
		"notify_deleted":             whyNotify,
		"notify_master_rx_lower_pri": whyNotify,
		"notify_priority_changes":    whyNotify,
		"smtp_alert":                 whyNotify,
	},
	blockSync: {
		"notify":                     whyNotify,
		"notify_master":              whyNotify,
		"notify_backup":              whyNotify,
		"notify_fault":               whyNotify,
		"notify_stop":                whyNotify,
		"notify_priority_changes":    whyNotify,
		"smtp_alert":                 whyNotify,
		"global_tracking":            whyVRRP,
		"sync_group_tracking_weight": whyVRRP,
		"track_file":                 whyTrack,
		"track_process":              whyTrack,
		"track_bfd":                  whyTrack,
	},
	blockScript: {
		"user":      {importer.Info, "not mapped: lvsbox runs VRRP scripts as root"},
		"init_fail": {importer.Warning, "not mapped: an lvsbox script counts as failing until it has succeeded rise times"},
	},
	blockVS: {
		"persistence_engine":      {importer.Warning, "not mapped: lvsbox has no IPVS persistence engines (sip)"},
		"ha_suspend":              {importer.Warning, "not mapped: lvsbox checks real servers whether or not this box holds the virtual address"},
		"alpha":                   whyAlpha,
		"omega":                   whyNotify,
		"quorum_up":               whyNotify,
		"quorum_down":             whyNotify,
		"smtp_alert":              whyNotify,
		"snmp_name":               whySNMP,
		"sorry_server_inhibit":    {importer.Warning, "not mapped: lvsbox removes the sorry server when real servers are up again"},
		"sorry_server_lvs_method": {importer.Warning, "not mapped: the sorry server uses the service's forwarding in lvsbox"},
		"hashed":                  {importer.Warning, "not mapped: lvsbox sets no IPVS service flags other than the sh/mh scheduler flags and one-packet"},
		"flag-3":                  {importer.Warning, "not mapped: lvsbox sets no IPVS service flags other than the sh/mh scheduler flags and one-packet"},
		"warmup":                  whyWarmup,
	},
	blockRS: {
		"notify_up":   whyNotify,
		"notify_down": whyNotify,
		"smtp_alert":  whyNotify,
		"snmp_name":   whySNMP,
		"alpha":       whyAlpha,
		"warmup":      whyWarmup,
	},
	blockChecker: {
		"bind_port":        {importer.Warning, "not mapped: lvsbox probes from a port the kernel chooses"},
		"bind_if":          {importer.Warning, "not mapped: lvsbox binds probes to source_address only"},
		"fwmark":           {importer.Warning, "not mapped: lvsbox does not mark probe packets"},
		"warmup":           whyWarmup,
		"alpha":            whyAlpha,
		"log_all_failures": {importer.Info, "not mapped: lvsbox logs every change of a server's state"},
	},
	blockHTTP: {
		"http_protocol": {importer.Info, "not mapped: lvsbox sends HTTP/1.1 requests with Connection: close"},
		"fast_recovery": whyHTTPx,
		"tls_compliant": {importer.Info, "not mapped: lvsbox always closes TLS connections properly"},
	},
	blockURL: {
		"regex_no_match":   whyHTTPx,
		"regex_options":    whyHTTPx,
		"regex_min_offset": whyHTTPx,
		"regex_max_offset": whyHTTPx,
		"regex_stack":      whyHTTPx,
		"tls_compliant":    {importer.Info, "not mapped: lvsbox always closes TLS connections properly"},
	},
	blockUDP: {
		"min_reply_length": {importer.Warning, "not mapped: lvsbox's UDP check compares the reply's first bytes (expect_hex) only"},
		"max_reply_length": {importer.Warning, "not mapped: lvsbox's UDP check compares the reply's first bytes (expect_hex) only"},
	},
	blockMisc: {
		"user": {importer.Info, "not mapped: lvsbox runs check scripts as root"},
	},
}

// globalReasons classifies the global_defs keywords the importer does not map.
var globalReasons = []struct {
	r     reason
	words string
}{
	{whyNotify, "notification_email notification_email_from smtp_server smtp_helo_name smtp_connect_timeout smtp_alert smtp_alert_vrrp smtp_alert_checker no_email_faults enable_traps enable_snmp_vrrp enable_snmp_keepalived enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3 enable_snmp_checker snmp_socket snmp_vs_stats_update_interval snmp_rs_stats_update_interval enable_dbus dbus_service_name dbus_no_interface_name notify_fifo notify_fifo_script vrrp_notify_fifo vrrp_notify_fifo_script vrrp_notify_priority_changes fifo_write_vrrp_states_on_reload lvs_notify_fifo lvs_notify_fifo_script startup_script startup_script_timeout shutdown_script shutdown_script_timeout rs_init_notifies no_checker_emails"},
	{whyTuning, "linkbeat_use_polling use_pid_dir instance child_wait_time process_names process_name vrrp_process_name checker_process_name lvs_process_name bfd_process_name use_symlink_paths set_supplementary_groups max_auto_priority min_auto_priority_delay checker_log_all_failures vrrp_priority vrrp_no_swap vrrp_rt_priority vrrp_cpu_affinity vrrp_rlimit_rttime vrrp_rlimit_rtime checker_priority checker_no_swap checker_rt_priority checker_cpu_affinity checker_rlimit_rttime checker_rlimit_rtime bfd_priority bfd_no_swap bfd_rt_priority bfd_cpu_affinity bfd_rlimit_rttime bfd_rlimit_rtime vrrp_netlink_cmd_rcv_bufs vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs vrrp_netlink_monitor_rcv_bufs_force process_monitor_rcv_bufs process_monitor_rcv_bufs_force lvs_netlink_cmd_rcv_bufs lvs_netlink_cmd_rcv_bufs_force lvs_netlink_monitor_rcv_bufs lvs_netlink_monitor_rcv_bufs_force vrrp_rx_bufs_policy vrrp_rx_bufs_multiplier log_unknown_vrids umask random_seed reload_check_config reload_time_file reload_repeat reload_file include_check config_save_dir tmp_config_directory data_use_instance json_version iproute_usr_dir iproute_etc_dir state_dump_file stats_dump_file json_dump_file dynamic_interfaces"},
	{whyVRRP, "vrrp_garp_master_delay vrrp_garp_master_refresh_repeat vrrp_garp_lower_prio_delay vrrp_garp_lower_prio_repeat vrrp_down_timer_adverts vrrp_gna_interval vrrp_min_garp vrrp_garp_extra_if vrrp_vmac_garp_intvl vrrp_lower_prio_no_advert vrrp_higher_prio_send_advert vrrp_check_unicast_src vrrp_skip_check_adv_addr vrrp_owner_ignore_adverts vrrp_startup_delay vrrp_delay_after_boot v3_checksum_as_v2 disable_local_igmp vmac_prefix vmac_addr_prefix"},
	{whyFW, "vrrp_iptables vrrp_ipsets nftables nftables_priority nftables_ifindex nftables_ipvs nftables_ipvs_priority nftables_ipvs_start_fwmark nftables_counters"},
	{whyNS, "net_namespace net_namespace_ipvs namespace_with_ipsets"},
	{reason{importer.Warning, "not mapped: lvsbox uses the standard VRRP groups 224.0.0.18 and ff02::12"}, "vrrp_mcast_group4 vrrp_mcast_group6"},
	{reason{importer.Info, "not mapped: lvsbox runs scripts as root"}, "script_user enable_script_security"},
	{reason{importer.Info, "not mapped: lvsbox never flushes the IPVS table; it changes the kernel table to match the configuration"}, "lvs_flush lvs_flush_on_stop lvs_flush_onstop"},
}

func init() {
	g := map[string]reason{}
	for _, c := range globalReasons {
		for w := range strings.FieldsSeq(c.words) {
			g[w] = c.r
		}
	}
	unmapped[blockGlobal] = g
}

// lookupUnmapped finds why keyword kw of block is not mapped; checker blocks fall
// back to the keywords all checkers share.
func lookupUnmapped(block, kw string) (reason, bool) {
	if r, ok := unmapped[block][kw]; ok {
		return r, true
	}
	switch block {
	case blockHTTP, blockSMTP, blockUDP, blockDNS, blockMisc, blockChecker:
		r, ok := unmapped[blockChecker][kw]
		return r, ok
	}
	return reason{}, false
}
