package keepalived

import "github.com/lvsbox/lvsbox/appliance/importer"

// Word is one word of a keyword line: a run of non-blank characters, or a
// double-quoted string (without its quotes).
type Word struct {
	Text   string
	Quoted bool
	Pos    importer.Pos
}

// Node is one keyword line of keepalived.conf (after includes, conditionals and
// parameter substitution), with the block that follows it when it has one. Lines
// inside value blocks (an address of virtual_ipaddress, a member of group) are
// Nodes too: their first word is the "keyword".
type Node struct {
	Pos   importer.Pos
	Words []Word
	// HasBlock is true when the line opens a { } block; Block holds the block's
	// lines.
	HasBlock bool
	Block    []*Node
}

// Keyword returns the first word of the line.
func (n *Node) Keyword() string {
	if len(n.Words) == 0 {
		return ""
	}
	return n.Words[0].Text
}

// Args returns the words after the keyword.
func (n *Node) Args() []Word {
	if len(n.Words) < 2 {
		return nil
	}
	return n.Words[1:]
}

// Arg returns the text of the i-th argument (0 is the first word after the
// keyword), or "" when there is none.
func (n *Node) Arg(i int) string {
	if i+1 >= len(n.Words) {
		return ""
	}
	return n.Words[i+1].Text
}

// NArgs returns the number of arguments.
func (n *Node) NArgs() int { return max(len(n.Words)-1, 0) }

type tokKind uint8

const (
	tWord tokKind = iota
	tOpen
	tClose
	tEOL
)

type token struct {
	kind   tokKind
	text   string
	quoted bool
	pos    importer.Pos
}
