package hostcmd

import (
	"context"
	"strings"
	"testing"
)

func TestExecReturnsStdout(t *testing.T) {
	out, err := Exec{}.Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "echo hi; echo noise >&2"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "hi\n" {
		t.Fatalf("stdout = %q, want %q", out, "hi\n")
	}
}

func TestExecErrorQuotesStderr(t *testing.T) {
	_, err := Exec{}.Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "echo broken thing >&2; exit 3"}})
	if err == nil {
		t.Fatal("want an error for exit 3")
	}
	for _, want := range []string{"sh -c", "exit status 3", "broken thing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestExecDirAndEnv(t *testing.T) {
	dir := t.TempDir()
	out, err := Exec{}.Run(context.Background(), Cmd{Dir: dir, Env: []string{"LVSBOX_X=42"}, Name: "sh", Args: []string{"-c", "pwd; echo $LVSBOX_X"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), dir+"\n42\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestTail(t *testing.T) {
	if got := tail("a\nb\nc\n", 2); got != "b\nc" {
		t.Fatalf("tail = %q", got)
	}
}
