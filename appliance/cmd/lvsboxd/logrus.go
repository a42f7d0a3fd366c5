package main

import (
	"io"
	"log/slog"

	"github.com/sirupsen/logrus"
)

// bridgeLogrus sends the logrus messages of github.com/moby/ipvs (e.g. "Running
// modprobe ip_vs failed" when the image has no modprobe; PID 1 loads ip_vs itself) to
// slog at debug level instead of raw to stderr.
func bridgeLogrus(log *slog.Logger) {
	logrus.SetOutput(io.Discard)
	logrus.AddHook(slogHook{log})
}

type slogHook struct{ log *slog.Logger }

func (slogHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h slogHook) Fire(e *logrus.Entry) error {
	h.log.Debug("moby/ipvs: "+e.Message, "logrus_level", e.Level.String())
	return nil
}
