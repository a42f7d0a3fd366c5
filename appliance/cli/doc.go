// Package cli owns the `lvsbox` command: a thin client of the lvsboxd API (over the
// root-only Unix socket by default, or HTTPS with a token or password), its
// subcommands, their human and --json output (including the `ipvsadm -Ln` layout) and
// its exit codes. Local helpers that need no daemon (hash-password, token new) live
// here too.
//
// It must not open the store, touch the kernel or re-implement validation: everything
// goes through the API, whose answers it prints.
package cli
