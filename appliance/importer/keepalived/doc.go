// Package keepalived imports keepalived.conf into an lvsbox configuration.
//
// Parse reads the file and its include files (globs relative to the including
// file, nesting and loops bounded) the way keepalived's reader does: # and !
// comments outside double quotes, @id / @^id conditional lines (Options.ConfigID),
// $NAME=value parameters, and { } wherever they stand. It returns a tree of Nodes,
// each with its file and line. Import maps the tree: global_defs, static_ipaddress,
// static_routes, vrrp_script, vrrp_instance, vrrp_sync_group, virtual_server_group,
// virtual_server, real_server and the checkers (TCP_CHECK, HTTP_GET, SSL_GET,
// SMTP_CHECK, DNS_CHECK, MISC_CHECK, UDP_CHECK, PING_CHECK). keepalived's own
// defaults and corrections are applied, so the imported configuration behaves like
// the keepalived one; where lvsbox's defaults differ, the value is written out.
//
// Every keyword that is not mapped is a note (appliance/importer) with file and line
// and the reason; nothing is dropped silently. The package reads only the files it
// is given (through a FileSystem): no name resolution, no network, no kernel.
// docs/import.md has the keyword table.
//
// Files: lexer.go (reading, includes, conditionals, parameters), parser.go (the
// tree), import.go (API), mapper.go (helpers and values), keywords.go (known
// keywords lvsbox does not map, with reasons), global.go (global_defs, static
// addresses and routes), vrrp*.go (scripts, instances, sync groups), vs*.go
// (virtual servers and groups), check.go (checkers).
package keepalived
