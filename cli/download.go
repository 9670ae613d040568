package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

// bppCache opens the directory where a downloaded BPP is kept until it is
// installed (--bpp-cache; "none" keeps it in memory only).
func (o *options) bppCache() (*lpa.BPPCache, error) {
	dir := o.bppCacheDir
	switch dir {
	case "none":
		dir = ""
	case "":
		d, err := defaultDataPath("bpp-cache")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	c, err := lpa.NewBPPCache(dir)
	if err != nil {
		return nil, fmt.Errorf("BPP cache: %w", err)
	}
	return c, nil
}

// es9Client builds the ES9+ client: TLS verified against the system roots
// plus the --trust-ci certificates, never skipped.
func (o *options) es9Client() (*lpa.ES9Client, error) {
	cis, err := o.trustedCIs()
	if err != nil {
		return nil, err
	}
	pool, err := lpa.TrustPool(cis...)
	if err != nil {
		return nil, err
	}
	return lpa.NewES9Client(lpa.ES9Options{RootCAs: pool, Timeout: o.es9Timeout, Logger: o.log})
}

type downloadData struct {
	ICCID                 string  `json:"iccid"`
	ISDPAID               string  `json:"isdpAid"`
	ServiceProviderName   string  `json:"serviceProviderName"`
	ProfileName           string  `json:"profileName"`
	Enabled               bool    `json:"enabled"`
	NotificationDelivered bool    `json:"notificationDelivered"`
	NotificationError     string  `json:"notificationError,omitempty"`
	BPPBytes              int     `json:"bppBytes"`
	Segments              int     `json:"segments"`
	APDUs                 int64   `json:"apdus"`
	Seconds               float64 `json:"seconds"`
}

func newDownloadCommand(o *options) *cobra.Command {
	var code, cc string
	var enable bool
	cmd := &cobra.Command{
		Use:   "download -a ACTIVATION_CODE [--confirmation-code CC] [--enable]",
		Short: "Download and install a profile from an SM-DP+ (GSMA SGP.22)",
		Long: `Download a profile with an activation code (LPA:1$smdp.example.com$MATCHING-ID, the "LPA:"
prefix is optional). The SM-DP+'s TLS certificate is verified against the system roots and the
--trust-ci certificates. A failed or interrupted download is cancelled on the eUICC and the
SM-DP+ and leaves no profile; it can simply be retried.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if code == "" {
				return usageError("an activation code is required: -a 'LPA:1$smdp.example.com$MATCHING-ID'")
			}
			ac, err := lpa.ParseActivationCode(code)
			if err != nil {
				return fmt.Errorf("%w: %w", errUsage, err)
			}
			if ac.ConfirmationCodeRequired && cc == "" {
				return usageError("this activation code needs a confirmation code: add --confirmation-code CODE")
			}
			es9c, err := o.es9Client()
			if err != nil {
				return err
			}
			cache, err := o.bppCache()
			if err != nil {
				return err
			}
			bar := newProgressBar(o.errOut, o.json)
			return o.withSession(cmd, func(ctx context.Context, s *session, c *lpa.Client) error {
				start := time.Now()
				res, err := c.Download(ctx, es9c, ac, lpa.DownloadOptions{
					ConfirmationCode: cc,
					BPPCache:         cache,
					Progress: func(p lpa.Progress) {
						if o.json {
							o.p.progress(p.Stage.String(), p.Message)
							return
						}
						bar.update(p.Stage.String(), p.Done, p.Total)
					},
				})
				bar.finish()
				if err != nil {
					return explainDownload(err)
				}
				d := downloadData{
					ICCID:                 string(res.ICCID),
					ISDPAID:               hex.EncodeToString(res.ISDPAID),
					ServiceProviderName:   res.Metadata.ServiceProviderName,
					ProfileName:           res.Metadata.ProfileName,
					NotificationDelivered: res.NotificationDelivered,
					BPPBytes:              res.BPPBytes,
					Segments:              res.Segments,
					APDUs:                 res.APDUs,
				}
				if res.NotificationErr != nil {
					d.NotificationError = res.NotificationErr.Error()
				}
				if enable {
					if err := c.Enable(ctx, rsp.ProfileID{ICCID: res.ICCID}, true); err != nil {
						return fmt.Errorf("profile %s installed, but enabling it failed: %w", res.ICCID, err)
					}
					d.Enabled = true
					// Deliver the enable (and the earlier install, if it
					// failed) notification; failures stay on the card.
					if _, err := c.ProcessNotifications(ctx, es9c, lpa.NotifyOptions{}); err != nil {
						o.log.Warn("notifications not delivered; run `notification process --all` later", "err", err)
					}
					if err := s.switched(ctx, true, true); err != nil {
						return fmt.Errorf("profile %s installed and enabled: %w", res.ICCID, err)
					}
				}
				d.Seconds = time.Since(start).Seconds()
				return o.p.result(d, func(w io.Writer) {
					fmt.Fprintf(w, "profile %s installed (%s, %s)\n", d.ICCID, d.ServiceProviderName, d.ProfileName)
					if d.Enabled {
						fmt.Fprintf(w, "profile %s enabled\n", d.ICCID)
					}
					if !d.NotificationDelivered {
						fmt.Fprintf(w, "the installation notification was not delivered (%s); it stays on the eUICC: run `mobileplans notification process --all`\n", d.NotificationError)
					}
				})
			})
		},
	}
	cmd.Flags().StringVarP(&code, "activation-code", "a", "", "activation code, e.g. LPA:1$smdp.example.com$MATCHING-ID")
	cmd.Flags().StringVar(&cc, "confirmation-code", "", "confirmation code, when the operator gave one")
	cmd.Flags().BoolVar(&enable, "enable", false, "enable the profile once installed")
	cmd.Flags().StringVar(&o.bppCacheDir, "bpp-cache", "", `where a downloaded profile package is kept until installed, so an interrupted load can resume while the eUICC still holds the session ("none": memory only; default <config dir>/mobileplans/bpp-cache)`)
	return cmd
}

// explainDownload keeps the error chain and adds what to do for the
// common failures.
func explainDownload(err error) error {
	var tErr *lpa.TransportError
	switch {
	case errors.Is(err, lpa.ErrConfirmationCodeRequired):
		return fmt.Errorf("%w (give it with --confirmation-code)", err)
	case errors.As(err, &tErr):
		return fmt.Errorf("%w (is the SM-DP+ reachable, and is its CI trusted with --trust-ci?)", err)
	}
	return err
}

type notifyData struct {
	Seq       int    `json:"seqNumber"`
	Operation string `json:"profileManagementOperation"`
	Address   string `json:"notificationAddress"`
	ICCID     string `json:"iccid"`
	Delivered bool   `json:"delivered"`
	Removed   bool   `json:"removed"`
	Error     string `json:"error,omitempty"`
}

func newNotificationProcessCommand(o *options) *cobra.Command {
	var all, remove bool
	cmd := &cobra.Command{
		Use:   "process SEQ | --all",
		Short: "Send pending notifications to their SM-DP+ (removed from the eUICC only once acknowledged)",
		Args: func(_ *cobra.Command, args []string) error {
			if all == (len(args) == 1) || len(args) > 1 {
				return usageError("give one sequence number or --all")
			}
			if len(args) == 1 {
				if n, err := strconv.Atoi(args[0]); err != nil || n < 0 {
					return usageError("sequence number %q: want a non-negative integer", args[0])
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			es9c, err := o.es9Client()
			if err != nil {
				return err
			}
			opts := lpa.NotifyOptions{KeepOnCard: !remove}
			if len(args) == 1 {
				n, _ := strconv.Atoi(args[0])
				opts.Seq = &n
			}
			return o.withLPA(cmd, func(ctx context.Context, c *lpa.Client) error {
				rep, err := c.ProcessNotifications(ctx, es9c, opts)
				if err != nil {
					return err
				}
				data := []notifyData{}
				add := func(r lpa.NotificationResult, delivered bool) {
					d := notifyData{Seq: r.Notification.Seq, Operation: r.Notification.Event.String(), Address: r.Notification.Address,
						ICCID: string(r.Notification.ICCID), Delivered: delivered, Removed: r.Removed}
					if r.Err != nil {
						d.Error = r.Err.Error()
					}
					data = append(data, d)
				}
				for _, r := range rep.Delivered {
					add(r, true)
				}
				for _, r := range rep.Failed {
					add(r, false)
				}
				if err := o.p.result(data, func(w io.Writer) {
					if len(data) == 0 {
						fmt.Fprintln(w, "no pending notifications")
					}
					for _, d := range data {
						switch {
						case d.Delivered && d.Removed:
							fmt.Fprintf(w, "notification %d (%s) delivered to %s and removed\n", d.Seq, d.Operation, d.Address)
						case d.Delivered:
							fmt.Fprintf(w, "notification %d (%s) delivered to %s, kept on the eUICC\n", d.Seq, d.Operation, d.Address)
						default:
							fmt.Fprintf(w, "notification %d (%s) NOT delivered to %s: %s (kept for a later try)\n", d.Seq, d.Operation, d.Address, d.Error)
						}
					}
				}); err != nil {
					return err
				}
				if len(rep.Failed) > 0 {
					return &partialError{fmt.Sprintf("%d of %d notifications not delivered", len(rep.Failed), len(data))}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "process every pending notification")
	cmd.Flags().BoolVar(&remove, "remove", true, "remove each notification from the eUICC once its SM-DP+ acknowledged it (--remove=false keeps them)")
	return cmd
}
