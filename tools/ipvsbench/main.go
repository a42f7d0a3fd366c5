package main

import (
	"fmt"
	"os"
)

func main() {
	code, err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ipvsbench:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
