package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/taskapi/taskapi/config"
	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/store/dynamo"
	"github.com/taskapi/taskapi/store/embedded"
)

// verifyFlags is `taskapi verify [-repair]`: core.Service.Verify over the
// configured store. It prints one line per problem and a summary; it exits 1
// while a problem is left (so a script can run it after a cutover or a
// crash), 0 once none is.
func verifyFlags(fs *flag.FlagSet) func(context.Context, env, *config.Config, *slog.Logger) error {
	repair := fs.Bool("repair", false, "finish what an interrupted operation left half done (an account deletion)")
	return func(ctx context.Context, e env, cfg *config.Config, log *slog.Logger) error {
		// The store itself, not through the cache: DynamoDB's audit needs it
		// (a repaired counter reaches cached readers within the cache's TTL).
		st, err := openStore(ctx, *cfg, dynamo.Options{Timeout: dynamo.DefaultTimeout, Logger: log})
		if errors.Is(err, embedded.ErrLocked) {
			return fmt.Errorf("the embedded store in %s is held by another taskapi process (a running server?): stop it, then run verify again", cfg.DataDir)
		}
		if err != nil {
			return err
		}
		defer st.Close()
		if err := (&app{cfg: *cfg, raw: st}).checkStore(ctx); err != nil {
			return err
		}
		r, err := core.NewService(core.Config{Store: st, Logger: log}).Verify(ctx, *repair)
		for _, line := range r.Lines {
			fmt.Fprintln(e.stdout, line)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "checked %d users: %d problems, %d repaired\n", r.Users, r.Problems, r.Repaired)
		if left := r.Problems - r.Repaired; left > 0 {
			hint := ""
			if !*repair {
				hint = " (taskapi verify -repair fixes them)"
			}
			return fmt.Errorf("%d problems left%s", left, hint)
		}
		return nil
	}
}
