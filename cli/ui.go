package cli

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/mobileplans/mobileplans/ui/portalhost"
)

// UIOptions is what the command line tells the desktop app.
type UIOptions struct {
	// Mock forces mock mode for this run (not saved); MockDir is its
	// state directory ("" = the settings' or a default one).
	Mock    bool
	MockDir string
	// StateDir is the agent's state directory ("" = the default).
	StateDir string
	// Autopilot walks each portal with these steps (--autopilot FILE).
	Autopilot []portalhost.Step
	// LogLevel is the --log-level; ErrOut receives the log too.
	LogLevel slog.Level
	Logger   *slog.Logger
}

// UIFunc runs the desktop app until it quits. GUI builds pass one to
// ExecuteWithUI; then `mobileplans` without a command (and `mobileplans
// ui`) start it.
type UIFunc func(ctx context.Context, o UIOptions) error

func newUICommand(o *options, run UIFunc) *cobra.Command {
	var uo UIOptions
	var autopilot string
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Start the desktop app (the default without a command)",
		Long: `ui starts the Mobile Plans desktop app: the device, the operators of your country, the
operator's portal in its own window, the download and the result; profiles, balance, settings and
diagnostics. --mock runs it on the bundled test network and its simulated modem for this run.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if autopilot != "" {
				steps, err := readAutopilot(autopilot)
				if err != nil {
					return err
				}
				uo.Autopilot = steps
			}
			return runUI(cmd.Context(), o, run, uo)
		},
	}
	cmd.Flags().BoolVar(&uo.Mock, "mock", false, "run on the bundled stack and its simulated modem (this run only)")
	cmd.Flags().StringVar(&uo.MockDir, "mock-dir", "", "state directory of the bundled stack with --mock")
	cmd.Flags().StringVar(&uo.StateDir, "state-dir", "", "the agent's state directory")
	cmd.Flags().StringVar(&autopilot, "autopilot", "", "walk each portal with this script of steps (as activate --autopilot; demos and tests)")
	return cmd
}

func runUI(ctx context.Context, o *options, run UIFunc, uo UIOptions) error {
	lvl := slog.LevelWarn
	_ = lvl.UnmarshalText([]byte(o.logLevel))
	uo.LogLevel, uo.Logger = lvl, o.log
	return run(ctx, uo)
}
