package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/modem/at"
	"github.com/mobileplans/mobileplans/modem/backend"
)

// commander is a modem that takes raw AT commands (the AT backend
// directly, ModemManager through Modem.Command).
type commander interface {
	Command(ctx context.Context, cmd string) (at.Response, error)
}

// describer is a modem that can say where it is reached (ModemManager's
// object path).
type describer interface {
	Describe() string
}

// specer is a modem that knows the spec that opens it again.
type specer interface {
	Spec() backend.Spec
}

func newModemCommand(o *options) *cobra.Command {
	m := &cobra.Command{Use: "modem", Short: "Modem identity, network state and raw AT commands"}
	m.AddCommand(
		&cobra.Command{
			Use:   "info",
			Short: "Show the modem's backend, identity, SIM state and network registration",
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
				spec, via := "", ""
				if sp, ok := s.modem.(specer); ok {
					spec = sp.Spec().String()
				}
				if d, ok := s.modem.(describer); ok {
					via = d.Describe()
				}
				return o.p.result(struct {
					modem.Info
					Spec         string             `json:"spec,omitempty"`
					Registration modem.Registration `json:"registration"`
				}{info, spec, reg}, func(w io.Writer) {
					fmt.Fprintf(w, "Backend:       %s", backendName(info.Backend))
					switch {
					case via != "":
						fmt.Fprintf(w, " (%s, %s)", spec, via)
					case spec != "":
						fmt.Fprintf(w, " (%s)", spec)
					}
					fmt.Fprintln(w)
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
			Long: `Send one AT command and print the answer, e.g. modem at 'AT+CSQ'. Through ModemManager
the command goes over D-Bus (Modem.Command, which ModemManager allows only when it runs with
--debug), else on the modem's own AT port while ModemManager is inhibited from the device
(InhibitDevice, which polkit must allow).`,
			Args: exactArgs("COMMAND"),
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
				c, ok := s.modem.(commander)
				if !ok {
					return fmt.Errorf("modem at: the %T backend does not take raw AT commands", s.modem)
				}
				resp, err := c.Command(ctx, line)
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
		newModemListCommand(o),
	)
	return m
}

func newModemListCommand(o *options) *cobra.Command {
	var eids bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the modems of every backend: ModemManager's and the serial ports that answer AT",
		Long: `List the modems there are: ModemManager's modems (when ModemManager runs) and the serial
ports that answer AT (on Linux /dev/wwan*at*, /dev/ttyACM*, /dev/ttyUSB*; ports ModemManager
holds are not probed). The SPEC column is what --modem takes to use one. Auto-selection (no
--device, --sim or --modem) takes ModemManager's modem when there is one (eSIM modems first),
else the first port that answers AT.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg := o.backendConfig(nil)
			cs, err := backend.List(ctx, cfg)
			if err != nil {
				return err
			}
			if eids {
				for i := range cs {
					if cs[i].Usable() && cs[i].EID == "" {
						cs[i].EID = o.readEID(ctx, cs[i].Spec, cfg)
					}
				}
			}
			return printModems(o, cs)
		},
	}
	cmd.Flags().BoolVar(&eids, "eid", false, "also read the EID of each modem's eUICC where the backend does not report it (opens each modem)")
	return cmd
}

// readEID opens the modem spec names and reads its eUICC's EID; "" when
// that fails (logged).
func (o *options) readEID(ctx context.Context, spec string, cfg backend.Config) string {
	sp, err := backend.ParseSpec(spec)
	if err != nil {
		return ""
	}
	m, err := backend.Open(ctx, sp, cfg)
	if err != nil {
		o.log.Warn("EID not read: the modem does not open", "modem", spec, "err", err)
		return ""
	}
	defer m.Close()
	c, err := lpa.New(ctx, m.OpenChannel, lpa.Options{BlockSize: o.blockSize, Logger: o.log})
	if err != nil {
		o.log.Warn("EID not read: no eUICC access", "modem", spec, "err", err)
		return ""
	}
	defer c.Close()
	eid, err := c.EID(ctx)
	if err != nil {
		o.log.Warn("EID not read", "modem", spec, "err", err)
		return ""
	}
	return string(eid)
}

// backendName names a modem.Info backend for people.
func backendName(b string) string {
	switch b {
	case string(backend.KindMM):
		return "mm (ModemManager)"
	case string(backend.KindAT):
		return "at (serial port)"
	}
	return b
}

func printModems(o *options, cs []backend.Candidate) error {
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		note := c.State
		if c.Error != "" {
			note = c.Error
		}
		rows = append(rows, []string{string(c.Backend), dash(c.Spec), dash(c.Manufacturer), dash(c.Model), dash(c.IMEI),
			dash(c.ICCID), dash(c.EID), dash(portOf(c)), note})
	}
	if cs == nil {
		cs = []backend.Candidate{}
	}
	return o.p.result(cs, func(w io.Writer) {
		table(w, []string{"BACKEND", "SPEC", "MANUFACTURER", "MODEL", "IMEI", "ICCID", "EID", "PORT", "STATUS"}, rows)
	})
}

// portOf is the candidate's port (for an unusable port, its path).
func portOf(c backend.Candidate) string {
	if c.Port != "" {
		return c.Port
	}
	return c.ID
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
