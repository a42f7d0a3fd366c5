package ipvsadm

// wellKnownPorts are the service names `ipvsadm -S` (without -n) prints for
// ports, as Debian's /etc/services names them, with their common aliases. Names
// outside this table are reported (the importer never reads /etc/services).
var wellKnownPorts = map[string]int{
	"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "mail": 25,
	"domain": 53, "tftp": 69, "kerberos": 88, "kerberos5": 88, "http": 80, "www": 80,
	"pop3": 110, "nntp": 119, "ntp": 123, "imap2": 143, "imap": 143, "snmp": 161,
	"bgp": 179, "ldap": 389, "https": 443, "microsoft-ds": 445, "submissions": 465,
	"ssmtp": 465, "smtps": 465, "isakmp": 500, "syslog": 514, "submission": 587,
	"ipp": 631, "ldaps": 636, "domain-s": 853, "rsync": 873, "imaps": 993, "pop3s": 995,
	"openvpn": 1194, "ms-sql-s": 1433, "radius": 1812, "radius-acct": 1813,
	"nfs": 2049, "mysql": 3306, "ms-wbt-server": 3389, "sip": 5060, "sip-tls": 5061,
	"xmpp-client": 5222, "mdns": 5353, "postgresql": 5432, "postgres": 5432,
	"amqp": 5672, "redis": 6379, "http-alt": 8080, "webcache": 8080, "tproxy": 8081,
	"git": 9418, "zabbix-agent": 10050,
}
