// Package hostcmd runs host tools (apt-get, dpkg-deb, depmod, modprobe, go)
// for the image build behind a small interface, so build steps can be tested
// with a fake.
//
// It owns process execution and error wrapping (the tool's stderr ends up in
// the error). It must not know anything about kernels, modules or images.
package hostcmd
