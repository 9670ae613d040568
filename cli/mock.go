package cli

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/service/smdp"
	"github.com/mobileplans/mobileplans/service/stack"
)

func newMockCommand(o *options) *cobra.Command {
	var dir string
	var noModem bool
	m := &cobra.Command{
		Use:   "mock",
		Short: "The bundled network side for tests and demos: run it all, or one part (smdp, order)",
		Long: `Without a subcommand: start the whole bundled stack on loopback (SM-DP+, discovery service,
a simulated modem with a simulated eUICC on a pty), print every address, and stop cleanly on Ctrl-C.
Everything uses real TLS from generated CAs whose certificate files are printed too.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if dir == "" {
				d, err := defaultDataPath("stack")
				if err != nil {
					return err
				}
				dir = d
			}
			st, err := stack.Start(ctx, stack.Config{Dir: dir, NoModem: noModem, Logger: o.log})
			if err != nil {
				return err
			}
			eps := st.Endpoints()
			if err := o.p.result(map[string]any{"dir": dir, "endpoints": eps}, func(w io.Writer) {
				fmt.Fprintf(w, "mobileplans mock stack (state in %s)\n", dir)
				for _, e := range eps {
					fmt.Fprintf(w, "  %-32s %s\n", e.Name, e.URL)
				}
				if st.ModemPath != "" {
					fmt.Fprintf(w, "try: mobileplans --device %s --trust-ci %s chip info\n", st.ModemPath, st.CIFile)
				}
				fmt.Fprintln(w, "Ctrl-C stops it.")
			}); err != nil {
				_ = st.Close()
				return err
			}
			<-ctx.Done()
			if err := st.Close(); err != nil {
				return fmt.Errorf("stopping the stack: %w", err)
			}
			fmt.Fprintln(o.errOut, "stack stopped")
			return nil
		},
	}
	m.Flags().StringVar(&dir, "dir", "", "state directory of the stack (default <config dir>/mobileplans/stack)")
	m.Flags().BoolVar(&noModem, "no-modem", false, "do not start the simulated modem")
	m.AddCommand(newMockSMDPCommand(o), newMockOrderCommand(o))
	return m
}

// defaultDataPath returns <user config dir>/mobileplans/name.
func defaultDataPath(name string) (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", usageError("no user config directory (%v): give the path explicitly", err)
	}
	return filepath.Join(base, "mobileplans", name), nil
}

// pickAddress resolves a listen address with port 0 to a free port now, so
// that the SM-DP+ knows its own address (it is signed into serverSigned1).
func pickAddress(ctx context.Context, listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", usageError("--listen %q: %v", listen, err)
	}
	if port != "0" {
		return listen, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

type smdpInfo struct {
	Address string `json:"address"`
	Listen  string `json:"listen"`
	CIPKID  string `json:"ciPKId"`
	CICert  string `json:"ciCertificate"`
	TestPKI string `json:"testPki"`
	DB      string `json:"database"`
}

func newMockSMDPCommand(o *options) *cobra.Command {
	var listen, address, db string
	var inventory int
	cmd := &cobra.Command{
		Use:   "smdp",
		Short: "Run the mock SM-DP+ (ES9+ for the LPA, ES2+ for operators) over HTTPS until interrupted",
		Long: `Run the bundled SM-DP+ with the test PKI (--test-pki): its TLS and DPauth/DPpb certificates chain to
the test CI, so an LPA must trust that CI explicitly (--trust-ci <test-pki>/ci.pem). Profiles, orders
and sessions live in an SQLite database (--db). ES2+ needs a client certificate issued by the test CI
(mobileplans mock order does that).`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			p, err := o.loadTestPKI()
			if err != nil {
				return err
			}
			dir, _ := o.testPKIDir()
			if db == "" {
				if db, err = defaultDataPath("smdp.db"); err != nil {
					return err
				}
			}
			if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
				return err
			}
			bound, err := pickAddress(ctx, listen)
			if err != nil {
				return err
			}
			if address == "" {
				_, port, _ := net.SplitHostPort(bound)
				address = net.JoinHostPort("localhost", port)
			}
			srv, err := smdp.New(ctx, smdp.Config{PKI: p, Address: address, DBPath: db, Logger: o.log, InventorySize: inventory})
			if err != nil {
				return err
			}
			defer srv.Close()
			if _, err := srv.ListenAndServeTLS(ctx, bound); err != nil {
				return err
			}
			info := smdpInfo{Address: address, Listen: bound, CIPKID: hex.EncodeToString(p.CIPKID()),
				CICert: filepath.Join(dir, "ci.pem"), TestPKI: dir, DB: db}
			if err := o.p.result(info, func(w io.Writer) {
				fmt.Fprintf(w, "SM-DP+ listening on %s, address %s\n", bound, address)
				fmt.Fprintf(w, "CI: %s (%s)\n", info.CIPKID, info.CICert)
				fmt.Fprintf(w, "order a profile:   mobileplans --test-pki %s mock order --smdp %s\n", dir, address)
				fmt.Fprintf(w, "download it:       mobileplans --sim STATE --test-pki %s --trust-ci %s profile download -a 'LPA:1$%s$MATCHING-ID'\n", dir, info.CICert, address)
				fmt.Fprintln(w, "Ctrl-C stops it.")
			}); err != nil {
				return err
			}
			<-ctx.Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8443", "TCP address to listen on (port 0 picks a free one)")
	cmd.Flags().StringVar(&address, "address", "", "the SM-DP+ address in activation codes, host[:port] (default localhost:<port>)")
	cmd.Flags().StringVar(&db, "db", "", "SQLite database (default <config dir>/mobileplans/smdp.db)")
	cmd.Flags().IntVar(&inventory, "inventory", 0, "number of profiles generated on first start (0: the default)")
	return cmd
}

type orderData struct {
	ICCID          string `json:"iccid"`
	MatchingID     string `json:"matchingId"`
	SMDPAddress    string `json:"smdpAddress"`
	EID            string `json:"eid,omitempty"`
	ActivationCode string `json:"activationCode"`
}

func newMockOrderCommand(o *options) *cobra.Command {
	var smdpAddr, matchingID, eid, cc string
	cmd := &cobra.Command{
		Use:   "order --smdp HOST[:PORT] [--matching-id ID] [--eid EID] [--confirmation-code CC]",
		Short: "Order a profile from the mock SM-DP+ over ES2+ (downloadOrder + confirmOrder) and print its activation code",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if smdpAddr == "" {
				return usageError("--smdp HOST[:PORT] is required (what `mobileplans mock smdp` printed)")
			}
			if eid != "" {
				if _, err := rsp.ParseEID(eid); err != nil {
					return fmt.Errorf("%w: --eid: %w", errUsage, err)
				}
			}
			p, err := o.loadTestPKI()
			if err != nil {
				return err
			}
			cert, err := smdp.IssueOperatorCertificate(p, "mobileplans mock operator", time.Now())
			if err != nil {
				return err
			}
			hc := &http.Client{Timeout: o.es9Timeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{
				RootCAs:      p.RootPool(),
				Certificates: []tls.Certificate{cert},
				MinVersion:   tls.VersionTLS12,
			}}}
			es2 := smdp.NewES2Client("https://"+smdpAddr, hc, "")
			dor, err := es2.DownloadOrder(ctx, smdp.DownloadOrderRequest{EID: eid})
			if err != nil {
				return fmt.Errorf("downloadOrder: %w", err)
			}
			cor, err := es2.ConfirmOrder(ctx, smdp.ConfirmOrderRequest{ICCID: dor.ICCID, EID: eid, MatchingID: matchingID, ConfirmationCode: cc, ReleaseFlag: true})
			if err != nil {
				return fmt.Errorf("confirmOrder: %w", err)
			}
			ac := lpa.ActivationCode{SMDPAddress: cor.SMDPAddress, MatchingID: cor.MatchingID, ConfirmationCodeRequired: cc != ""}
			d := orderData{ICCID: dor.ICCID, MatchingID: cor.MatchingID, SMDPAddress: cor.SMDPAddress, EID: cor.EID, ActivationCode: ac.URI()}
			return o.p.result(d, func(w io.Writer) {
				fmt.Fprintf(w, "order for profile %s\n", d.ICCID)
				if d.EID != "" {
					fmt.Fprintf(w, "bound to EID %s\n", d.EID)
				}
				fmt.Fprintf(w, "activation code: %s\n", d.ActivationCode)
				if cc != "" {
					fmt.Fprintln(w, "a confirmation code is required when downloading")
				}
			})
		},
	}
	cmd.Flags().StringVar(&smdpAddr, "smdp", "", "the mock SM-DP+ address, host[:port]")
	cmd.Flags().StringVar(&matchingID, "matching-id", "", "matching ID to use (default: the SM-DP+ generates one)")
	cmd.Flags().StringVar(&eid, "eid", "", "bind the order to this EID")
	cmd.Flags().StringVar(&cc, "confirmation-code", "", "require this confirmation code on download")
	return cmd
}
