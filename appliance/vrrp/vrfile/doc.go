// Package vrfile is the JSON file format of cmd/vrrpd (and of the lab that
// writes such files): instances and sync groups with durations as strings
// ("100ms"), addresses as text, unknown fields refused. Convert maps it to
// node.Config.
//
// It must not run anything; the appliance's own config model will feed
// node.Config through its own mapping.
package vrfile
