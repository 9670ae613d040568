package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/modem/sim"
	"github.com/mobileplans/mobileplans/modem/simcard"
)

func newSimCommand(o *options) *cobra.Command {
	s := &cobra.Command{Use: "sim", Short: "The simulated modem with its simulated eUICC"}
	var state, link, logPath string
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve a simulated modem on a new pseudo-terminal until interrupted",
		Long: `Serve a simulated 3GPP modem (AT commands, 27.007) with a simulated eUICC on a new
pseudo-terminal and print its path. Any program that speaks AT to a serial port can
use it: mobileplans --device PATH, lpac's AT driver, or ModemManager.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if state == "" {
				dir, err := os.UserConfigDir()
				if err != nil {
					return usageError("no --state given and no user config directory: %v", err)
				}
				state = filepath.Join(dir, "mobileplans", "sim-euicc.json")
			}
			if err := os.MkdirAll(filepath.Dir(state), 0o700); err != nil {
				return err
			}
			p, err := o.loadTestPKI()
			if err != nil {
				return err
			}
			card, err := euicc.Open(state, euicc.Options{Logger: o.log, Seed: true, Issuer: euicc.PKIIssuer(p)})
			if err != nil {
				return fmt.Errorf("simulated eUICC: %w", err)
			}
			opts := sim.Options{Logger: o.log}
			if logPath != "" {
				f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				opts.Log = f
			}
			m := sim.New(simcard.New(card), opts)
			path, err := m.ServePTY(ctx)
			if err != nil {
				return fmt.Errorf("simulated modem: %w", err)
			}
			if link != "" {
				tmp := link + ".new"
				_ = os.Remove(tmp)
				if err := os.Symlink(path, tmp); err != nil {
					return err
				}
				if err := os.Rename(tmp, link); err != nil {
					return err
				}
				defer os.Remove(link)
			}
			if err := o.p.result(map[string]string{"device": path, "eid": string(card.EID()), "state": state}, func(w io.Writer) {
				fmt.Fprintf(w, "simulated modem on %s (EID %s, state %s); Ctrl-C stops it\n", path, card.EID(), state)
			}); err != nil {
				return err
			}
			<-ctx.Done()
			return m.Wait()
		},
	}
	serve.Flags().StringVar(&state, "state", "", "eUICC state file (default: <config dir>/mobileplans/sim-euicc.json)")
	serve.Flags().StringVar(&link, "link", "", "also create this symlink to the pty (removed on exit)")
	serve.Flags().StringVar(&logPath, "log", "", "append every AT command and reply to this file")
	s.AddCommand(serve)
	return s
}
