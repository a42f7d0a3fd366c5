package importer

import "github.com/lvsbox/lvsbox/appliance/config"

// SchedulerFlag maps a scheduler flag as ipvsadm and keepalived write it
// (sh-port, mh-fallback, or the generic flag-1/flag-2 that mean the
// fallback/port flag of sh and mh) to the model's flag name, and reports
// whether that flag belongs to scheduler sched.
func SchedulerFlag(sched, flag string) (name string, ok bool) {
	if sched == "sh" || sched == "mh" {
		switch flag {
		case "flag-1":
			flag = sched + "-fallback"
		case "flag-2":
			flag = sched + "-port"
		}
	}
	owner, known := config.SchedulerFlags[flag]
	return flag, known && owner == sched
}
