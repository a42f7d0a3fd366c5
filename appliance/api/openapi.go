package api

import (
	_ "embed"
	"net/http"

	"github.com/lvsbox/lvsbox/appliance/auth"
)

// OpenAPI is the API's OpenAPI 3 document; a test keeps it equal to the route table.
//
//go:embed openapi.json
var OpenAPI []byte

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request, _ auth.Identity) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(OpenAPI)
}
