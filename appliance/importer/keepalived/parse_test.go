package keepalived

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/importer"
)

// render writes a tree compactly: words joined by spaces, blocks in braces,
// lines separated by ';'.
func render(nodes []*Node) string {
	var parts []string
	for _, n := range nodes {
		var w []string
		for _, x := range n.Words {
			if x.Quoted {
				w = append(w, fmt.Sprintf("%q", x.Text))
			} else {
				w = append(w, x.Text)
			}
		}
		s := strings.Join(w, " ")
		if n.HasBlock {
			s += "{" + render(n.Block) + "}"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ";")
}

func parseString(t *testing.T, files MapFS, opts Options) ([]*Node, importer.Notes) {
	t.Helper()
	nodes, notes, err := Parse(files, "k.conf", opts)
	if err != nil {
		t.Fatal(err)
	}
	return nodes, notes
}

func TestParseTree(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"comments", "a 1 # x\n! whole line\nb 2 ! y\n", "a 1;b 2"},
		{"quotes keep comment characters", `s "x # y ! z" w` + "\n", `s "x # y ! z" w`},
		{"escaped comment characters", `p a\#b c\!d` + "\n", `p a#b c!d`},
		{"braces need no blanks", "a{b 1}c{d{e}}\n", "a{b 1};c{d{e}}"},
		{"brace on the next line", "a\n\n{\n b\n}\n", "a{b}"},
		{"one-line block", "g { r x } h\n", "g{r x};h"},
		{"braces inside quotes", `a "{x}"` + "\n", `a "{x}"`},
		{"CRLF", "a 1\r\nb {\r\n c\r\n}\r\n", "a 1;b{c}"},
		{"non-breaking spaces", "a\u00a0{\u00a0b\u00a01 }\n", "a{b 1}"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes, _ := parseString(t, MapFS{"k.conf": tt.in}, Options{})
			if got := render(nodes); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseLineNumbers(t *testing.T) {
	nodes, _ := parseString(t, MapFS{"k.conf": "a {\n\n  b 1\n}\nc\n"}, Options{})
	got := []int{nodes[0].Pos.Line, nodes[0].Block[0].Pos.Line, nodes[1].Pos.Line}
	if fmt.Sprint(got) != "[1 3 5]" {
		t.Errorf("lines %v, want [1 3 5]", got)
	}
	if nodes[0].Block[0].Pos.File != "k.conf" {
		t.Errorf("file %q", nodes[0].Block[0].Pos.File)
	}
}

func hasNote(notes []importer.Note, sev importer.Severity, substr string) bool {
	for _, n := range notes {
		if n.Severity == sev && strings.Contains(n.Message, substr) {
			return true
		}
	}
	return false
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name  string
		files MapFS
		want  string // tree
		note  string // an error note's message contains this
	}{
		{"extra close", MapFS{"k.conf": "a {\n}\n}\nb\n"}, "a{};b", "extra '}'"},
		{"unclosed", MapFS{"k.conf": "a {\n b\n"}, "a{b}", "never closed"},
		{"orphan block", MapFS{"k.conf": "{ x }\ny\n"}, "y", "without a keyword"},
		{"unterminated quote", MapFS{"k.conf": "s \"abc\n"}, `s "abc"`, "unterminated quote"},
		{"include loop", MapFS{"k.conf": "include k.conf\nx\n"}, "x", "includes itself"},
		{"mutual include", MapFS{"k.conf": "include b.conf\n", "b.conf": "y\ninclude k.conf\n"}, "y", "includes itself"},
		{"include without name", MapFS{"k.conf": "include\n"}, "", "needs a file name"},
		{"unreadable include", MapFS{"k.conf": "include [\n"}, "", "bad pattern"},
		{"multi-line definition", MapFS{"k.conf": "$A=x \\\n y \\\n z\nq\n"}, "q", "multi-line definitions"},
		{"sequence", MapFS{"k.conf": "~SEQ(i, 1, 3) a $i\n"}, "", "sequence expansion"},
		{"self-referencing definition", MapFS{"k.conf": "$A=x$A\ny $A\n"}, "", "rounds of substitution"},
		{"exploding definition", MapFS{"k.conf": "$A=$A$A\nx $A\n"}, "", "longer than"},
		{"deep nesting", MapFS{"k.conf": strings.Repeat("a {\n", 40) + strings.Repeat("}\n", 40)}, "", "nest deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes, notes := parseString(t, tt.files, Options{})
			if got := render(nodes); tt.want != "" && got != tt.want {
				t.Errorf("tree %q, want %q", got, tt.want)
			}
			if !hasNote(notes, importer.Error, tt.note) {
				t.Errorf("no error note containing %q in:\n%s", tt.note, importer.Format(notes))
			}
		})
	}
}

func TestIncludes(t *testing.T) {
	files := MapFS{
		"/etc/k/k.conf":        "include conf.d/*.conf\ninclude /etc/k/abs.conf\ninclude none/*.conf\n",
		"/etc/k/conf.d/b.conf": "b\n",
		"/etc/k/conf.d/a.conf": "a {\ninclude ../inner.conf\n}\n",
		"/etc/k/inner.conf":    "inner 1\n",
		"/etc/k/abs.conf":      "abs\n",
	}
	nodes, notes, err := Parse(files, "/etc/k/k.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := render(nodes), "a{inner 1};b;abs"; got != want {
		t.Errorf("tree %q, want %q (includes in sorted order, relative to the including file)", got, want)
	}
	if nodes[0].Block[0].Pos != (importer.Pos{File: "/etc/k/inner.conf", Line: 1}) {
		t.Errorf("included line at %v", nodes[0].Block[0].Pos)
	}
	if !hasNote(notes, importer.Warning, "no file matches") {
		t.Errorf("missing include not reported:\n%s", importer.Format(notes))
	}
}

func TestIncludeDepth(t *testing.T) {
	files := MapFS{}
	for i := range 10 {
		files[fmt.Sprintf("f%d.conf", i)] = fmt.Sprintf("l%d\ninclude f%d.conf\n", i, i+1)
	}
	files["k.conf"] = "include f0.conf\n"
	nodes, notes := parseString(t, files, Options{MaxIncludeDepth: 3})
	if got := render(nodes); got != "l0;l1;l2" {
		t.Errorf("tree %q, want the first three levels", got)
	}
	if !hasNote(notes, importer.Error, "nest deeper than 3") {
		t.Errorf("depth limit not reported:\n%s", importer.Format(notes))
	}
}

func TestConditionalsAndDefinitions(t *testing.T) {
	in := "$IP=192.0.2.1\n$PORT = 80\n@lb1 a lb1\n@^lb1 a other\n@lb2\tb lb2\nv $IP ${PORT} $UNDEFINED ${IP}x\n$IP=198.51.100.1\nw $IP\n"
	tests := []struct{ id, want string }{
		{"", "a other;v 192.0.2.1 80 $UNDEFINED 192.0.2.1x;w 198.51.100.1"},
		{"lb1", "a lb1;v 192.0.2.1 80 $UNDEFINED 192.0.2.1x;w 198.51.100.1"},
		{"lb2", "a other;b lb2;v 192.0.2.1 80 $UNDEFINED 192.0.2.1x;w 198.51.100.1"},
	}
	for _, tt := range tests {
		nodes, notes := parseString(t, MapFS{"k.conf": in}, Options{ConfigID: tt.id})
		if got := render(nodes); got != tt.want {
			t.Errorf("config id %q: got %q, want %q", tt.id, got, tt.want)
		}
		if !hasNote(notes, importer.Info, "line not imported") {
			t.Errorf("config id %q: skipped lines not reported", tt.id)
		}
	}
}

func TestShellSplit(t *testing.T) {
	tests := map[string]string{
		`/bin/a b  c`:                    `["/bin/a" "b" "c"]`,
		`bash -c '</dev/tcp/1.2.3.4/80'`: `["bash" "-c" "</dev/tcp/1.2.3.4/80"]`,
		`x "a b" c\ d`:                   `["x" "a b" "c d"]`,
		`'it''s'`:                        `["its"]`,
		``:                               `[]`,
	}
	for in, want := range tests {
		if got := fmt.Sprintf("%q", shellSplit(in)); got != want {
			t.Errorf("shellSplit(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParseTimer(t *testing.T) {
	tests := map[string]string{"3": "3s", "0.5": "500ms", "1.25": "1.25s", "0": "0s", "10.000001": "10.000001s"}
	for in, want := range tests {
		d, ok := parseTimer(in)
		if !ok || d.String() != want {
			t.Errorf("parseTimer(%q) = %v, %v; want %s", in, d, ok, want)
		}
	}
	for _, bad := range []string{"", ".", "-1", "1.1234567", "x", "1e3", "+2", "99999999999"} {
		if d, ok := parseTimer(bad); ok {
			t.Errorf("parseTimer(%q) = %v, want an error", bad, d)
		}
	}
}
