// Command gencommon writes core/commonpasswords.txt: the 10,000 most common
// passwords, most common first, from the frequency list of
// github.com/trustelem/zxcvbn (zxcvbn's list, built from leaked password
// corpora; MIT licensed). Run it with `go generate ./core`.
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/trustelem/zxcvbn/frequency"
)

const count = 10_000

func main() {
	list := frequency.FrequencyLists["passwords"]
	if len(list) < count {
		fmt.Fprintf(os.Stderr, "gencommon: the list has %d passwords, want %d\n", len(list), count)
		os.Exit(1)
	}
	f, err := os.Create("commonpasswords.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencommon:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(f)
	for _, p := range list[:count] {
		fmt.Fprintln(w, p)
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencommon:", err)
		os.Exit(1)
	}
}
