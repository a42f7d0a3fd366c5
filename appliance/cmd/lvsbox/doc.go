// Command lvsbox is the lvsbox command-line client: a thin client of the lvsboxd API
// over the root-only Unix socket (/run/lvsbox/api.sock) or HTTPS. The logic lives in
// appliance/cli; main only connects it to the process (stdio, terminal, signals).
package main
