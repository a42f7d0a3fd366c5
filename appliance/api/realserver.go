package api

import (
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/rshelper"
)

// realServerScript answers the script a service's DR/TUN real servers need, as
// text/plain for copy-paste: 404 for an unknown service, 409 for a NAT-only one,
// 422 when no script can be written (e.g. gue/gre tunnels).
func (s *Server) realServerScript(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	if s.RealServerScript == nil {
		s.fail(w, r, newError(http.StatusServiceUnavailable, "real-server scripts are not available here"))
		return
	}
	rev, err := s.Store.Current()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := r.PathValue("name")
	if !slices.ContainsFunc(rev.Config.VirtualServices, func(vs config.VirtualService) bool { return vs.Name == name }) {
		s.fail(w, r, newError(http.StatusNotFound, "no virtual service named %q in the configuration (revision %d)", name, rev.Number))
		return
	}
	text, err := s.RealServerScript(rev.Config, name)
	switch {
	case errors.Is(err, rshelper.ErrNoScript):
		s.fail(w, r, newError(http.StatusConflict, "virtual service %s: %v", name, rshelper.ErrNoScript))
		return
	case err != nil:
		s.fail(w, r, newError(http.StatusUnprocessableEntity, "virtual service %s: %v", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, text)
}
