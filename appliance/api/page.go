package api

import (
	"bytes"
	"html/template"
	"net"
	"net/http"
	"strconv"

	"github.com/lvsbox/lvsbox/appliance/auth"
)

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"hostport": func(a string, p uint16) string { return net.JoinHostPort(a, strconv.Itoa(int(p))) },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>lvsbox {{.Hostname}}</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left}
th{background:#eee}
.ok{color:#070}.bad{color:#b00}
</style>
</head>
<body>
<h1>lvsbox {{.Hostname}}</h1>
<table>
<tr><th>state</th><td>{{if .Ready}}<span class="ok">ready</span>{{else}}<span class="bad">not ready</span>{{end}}</td></tr>
<tr><th>configuration</th><td>{{with .Revision}}revision {{.Number}} ({{.Comment}}, {{.Time.Format "2006-01-02 15:04:05Z07:00"}}){{else}}none (empty store){{end}}</td></tr>
<tr><th>IPVS</th><td>{{if .IPVS.Available}}<span class="ok">available</span>{{else}}<span class="bad">unavailable</span> {{.IPVS.Error}}{{end}}</td></tr>
{{with .LastPass}}<tr><th>last pass</th><td>{{.Time.Format "15:04:05Z07:00"}}, {{.Duration}}, {{.Writes}} writes, {{len .Errors}} errors</td></tr>{{end}}
{{with .Version}}<tr><th>version</th><td>{{.GitRevision}} (board {{.Board}}, kernel {{.KernelVersion}}, {{.GoVersion}})</td></tr>{{end}}
</table>
{{with .LastPass}}{{if .Errors}}<h2>Problems</h2><ul>{{range .Errors}}<li class="bad">{{.}}</li>{{end}}</ul>{{end}}{{end}}
<h2>Virtual services (as programmed in the kernel)</h2>
{{if .IPVS.Services}}
<table>
<tr><th>name</th><th>service</th><th>scheduler</th><th>real server</th><th>forwarding</th><th>weight</th><th>active</th><th>inactive</th></tr>
{{range .IPVS.Services}}{{$s := .}}
{{if .Destinations}}{{range $i, $d := .Destinations}}<tr>
{{if eq $i 0}}<td rowspan="{{len $s.Destinations}}">{{or $s.Name "(not configured)"}}</td><td rowspan="{{len $s.Destinations}}">{{$s.Protocol}} {{hostport $s.Address $s.Port}}</td><td rowspan="{{len $s.Destinations}}">{{$s.Scheduler}}</td>{{end}}
<td>{{hostport $d.Address $d.Port}}</td><td>{{$d.Forwarding}}</td><td>{{$d.Weight}}</td><td>{{$d.ActiveConns}}</td><td>{{$d.InactiveConns}}</td></tr>
{{end}}{{else}}<tr><td>{{or .Name "(not configured)"}}</td><td>{{.Protocol}} {{hostport .Address .Port}}</td><td>{{.Scheduler}}</td><td colspan="5">no real servers</td></tr>{{end}}
{{end}}
</table>
{{else}}<p>none</p>{{end}}
<p><a href="/api/v1/status">/api/v1/status</a></p>
</body>
</html>
`))

func (s *Server) page(w http.ResponseWriter, _ *http.Request, _ auth.Identity) {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, s.document()); err != nil {
		s.log().Error("http: render status page", "error", err)
		http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
