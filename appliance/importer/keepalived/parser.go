package keepalived

import "github.com/lvsbox/lvsbox/appliance/importer"

// maxNesting bounds how deeply blocks may nest (keepalived's grammar needs 4).
const maxNesting = 32

// parser builds the Node tree from the token stream.
type parser struct {
	toks  []token
	i     int
	notes *importer.Notes
}

func (p *parser) peek() (token, bool) {
	if p.i >= len(p.toks) {
		return token{}, false
	}
	return p.toks[p.i], true
}

// block parses lines until the '}' that closes the block opened at open (depth > 0)
// or the end of input (depth 0).
func (p *parser) block(depth int, open importer.Pos) []*Node {
	var nodes []*Node
	for {
		t, ok := p.peek()
		if !ok {
			if depth > 0 {
				p.notes.Add(open, importer.Error, "{", "block opened here is never closed (a '}' is missing)")
			}
			return nodes
		}
		p.i++
		switch t.kind {
		case tEOL:
		case tClose:
			if depth > 0 {
				return nodes
			}
			p.notes.Add(t.pos, importer.Error, "}", "extra '}' ignored")
		case tOpen:
			p.notes.Add(t.pos, importer.Error, "{", "block without a keyword ignored, with everything in it")
			p.skip(t.pos)
		case tWord:
			n := &Node{Pos: t.pos, Words: []Word{{Text: t.text, Quoted: t.quoted, Pos: t.pos}}}
			for {
				w, ok := p.peek()
				if !ok || w.kind != tWord {
					break
				}
				n.Words = append(n.Words, Word{Text: w.text, Quoted: w.quoted, Pos: w.pos})
				p.i++
			}
			// The '{' may stand on the keyword's line or on the next non-blank one.
			j := p.i
			for j < len(p.toks) && p.toks[j].kind == tEOL {
				j++
			}
			if j < len(p.toks) && p.toks[j].kind == tOpen {
				p.i = j + 1
				n.HasBlock = true
				if depth+1 > maxNesting {
					p.notes.Add(n.Pos, importer.Error, n.Keyword(), "blocks nest deeper than %d levels; this one is ignored", maxNesting)
					p.skip(p.toks[j].pos)
				} else {
					n.Block = p.block(depth+1, p.toks[j].pos)
				}
			}
			nodes = append(nodes, n)
		}
	}
}

// skip consumes tokens up to the '}' that balances an already consumed '{'.
func (p *parser) skip(open importer.Pos) {
	level := 1
	for ; p.i < len(p.toks); p.i++ {
		switch p.toks[p.i].kind {
		case tOpen:
			level++
		case tClose:
			level--
		}
		if level == 0 {
			p.i++
			return
		}
	}
	p.notes.Add(open, importer.Error, "{", "block opened here is never closed (a '}' is missing)")
}
