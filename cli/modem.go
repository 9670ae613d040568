package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileplans/mobileplans/modem"
)

func newModemCommand(o *options) *cobra.Command {
	m := &cobra.Command{Use: "modem", Short: "Modem identity, network state and raw AT commands"}
	m.AddCommand(
		&cobra.Command{
			Use:   "info",
			Short: "Show the modem's identity, SIM state and network registration",
			Args:  exactArgs(),
			RunE: func(cmd *cobra.Command, _ []string) error {
				ctx := cmd.Context()
				s, err := o.openSession(ctx)
				if err != nil {
					return err
				}
				defer s.Close()
				info, err := s.modem.Info(ctx)
				if err != nil {
					return err
				}
				reg, err := s.modem.Registration(ctx)
				if err != nil {
					return err
				}
				reg.StateName = reg.State.String()
				return o.p.result(struct {
					modem.Info
					Registration modem.Registration `json:"registration"`
				}{info, reg}, func(w io.Writer) {
					fmt.Fprintf(w, "Manufacturer:  %s\nModel:         %s\nRevision:      %s\nIMEI:          %s\n",
						info.Manufacturer, info.Model, info.Revision, info.IMEI)
					fmt.Fprintf(w, "SIM:           %s\nICCID:         %s\nIMSI:          %s\n", info.SIMState, info.ICCID, info.IMSI)
					fmt.Fprintf(w, "Registration:  %s", reg.State)
					if reg.OperatorCode != "" || reg.OperatorName != "" {
						fmt.Fprintf(w, " (%s %s)", reg.OperatorCode, reg.OperatorName)
					}
					fmt.Fprintln(w)
					if reg.AccessTech != "" {
						fmt.Fprintf(w, "Access:        %s\n", reg.AccessTech)
					}
					if reg.SignalValid {
						fmt.Fprintf(w, "Signal:        %d dBm\n", reg.SignalDBm)
					} else {
						fmt.Fprintln(w, "Signal:        unknown")
					}
				})
			},
		},
		&cobra.Command{
			Use:   "at COMMAND",
			Short: `Send one AT command and print the answer, e.g. modem at 'AT+CSQ'`,
			Args:  exactArgs("COMMAND"),
			RunE: func(cmd *cobra.Command, args []string) error {
				line := strings.TrimSpace(args[0])
				if !strings.HasPrefix(strings.ToUpper(line), "AT") {
					line = "AT" + line
				}
				ctx := cmd.Context()
				s, err := o.openSession(ctx)
				if err != nil {
					return err
				}
				defer s.Close()
				resp, err := s.modem.Command(ctx, line)
				if err != nil {
					return err
				}
				return o.p.result(map[string]any{"command": line, "lines": resp.Lines, "final": resp.Final}, func(w io.Writer) {
					for _, l := range resp.Lines {
						fmt.Fprintln(w, l)
					}
					fmt.Fprintln(w, resp.Final)
				})
			},
		},
	)
	return m
}
