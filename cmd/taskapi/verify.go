package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/taskapi/taskapi/config"
	"github.com/taskapi/taskapi/core"
)

// verify runs `taskapi verify [-repair]`: core.Service.Verify over the
// configured store. It prints one line per problem and a summary; it exits 1
// while a problem is left (so a script can run it after a cutover or a
// crash), 0 once none is.
func verify(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repair := fs.Bool("repair", false, "finish what an interrupted operation left half done (an account deletion)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	// The store itself, not through the cache: DynamoDB's audit needs it
	// (a repaired counter reaches cached readers within the cache's TTL).
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := core.NewService(core.Config{Store: st, Logger: log}).Verify(ctx, *repair)
	for _, line := range r.Lines {
		fmt.Fprintln(stdout, line)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checked %d users: %d problems, %d repaired\n", r.Users, r.Problems, r.Repaired)
	if left := r.Problems - r.Repaired; left > 0 {
		hint := ""
		if !*repair {
			hint = " (taskapi verify -repair fixes them)"
		}
		return fmt.Errorf("%d problems left%s", left, hint)
	}
	return nil
}
