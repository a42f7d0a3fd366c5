package supervise

import (
	"bufio"
	"errors"
	"io"
)

// MaxLine bounds one forwarded line; longer lines are split.
const MaxLine = 4096

// ForwardLines reads r until EOF and calls emit for every line (without the
// newline). A final unterminated line is emitted too.
func ForwardLines(r io.Reader, emit func(string)) error {
	br := bufio.NewReaderSize(r, MaxLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if line[len(line)-1] == '\n' {
				line = line[:len(line)-1]
			}
			emit(string(line))
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
}
