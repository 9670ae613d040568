package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

func newNotificationCommand(o *options) *cobra.Command {
	n := &cobra.Command{Use: "notification", Short: "Pending notifications on the eUICC (install/enable/disable/delete reports for the SM-DP+)"}
	var all bool
	remove := &cobra.Command{
		Use:   "remove SEQ... | --all",
		Short: "Remove notifications from the eUICC without sending them",
		Args: func(_ *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return usageError("give sequence numbers or --all (not both)")
			}
			for _, a := range args {
				if n, err := strconv.Atoi(a); err != nil || n < 0 {
					return usageError("sequence number %q: want a non-negative integer", a)
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.withLPA(cmd, func(ctx context.Context, c *lpa.Client) error {
				var seqs []int
				if all {
					ns, err := c.Notifications(ctx)
					if err != nil {
						return err
					}
					for _, n := range ns {
						seqs = append(seqs, n.Seq)
					}
				} else {
					for _, a := range args {
						n, _ := strconv.Atoi(a)
						seqs = append(seqs, n)
					}
				}
				for _, seq := range seqs {
					if err := c.RemoveNotification(ctx, seq); err != nil {
						return fmt.Errorf("notification %d: %w", seq, err)
					}
				}
				return o.p.result(map[string]any{"removed": seqs}, func(w io.Writer) {
					if len(seqs) == 0 {
						fmt.Fprintln(w, "no notifications to remove")
					}
					for _, s := range seqs {
						fmt.Fprintf(w, "notification %d removed\n", s)
					}
				})
			})
		},
	}
	remove.Flags().BoolVar(&all, "all", false, "remove every pending notification")
	n.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List pending notifications",
			Args:  exactArgs(),
			RunE: func(cmd *cobra.Command, _ []string) error {
				return o.withLPA(cmd, func(ctx context.Context, c *lpa.Client) error {
					ns, err := c.Notifications(ctx)
					if err != nil {
						return err
					}
					return printNotifications(o, ns)
				})
			},
		},
		remove,
		newNotificationProcessCommand(o),
	)
	return n
}

type notificationData struct {
	Seq       int    `json:"seqNumber"`
	Operation string `json:"profileManagementOperation"`
	Address   string `json:"notificationAddress"`
	ICCID     string `json:"iccid"`
}

func printNotifications(o *options, ns []rsp.NotificationMetadata) error {
	data := make([]notificationData, 0, len(ns))
	rows := make([][]string, 0, len(ns))
	for _, n := range ns {
		d := notificationData{Seq: n.Seq, Operation: n.Event.String(), Address: n.Address, ICCID: string(n.ICCID)}
		data = append(data, d)
		rows = append(rows, []string{strconv.Itoa(d.Seq), d.Operation, d.ICCID, d.Address})
	}
	return o.p.result(data, func(w io.Writer) {
		if len(rows) == 0 {
			fmt.Fprintln(w, "no pending notifications")
			return
		}
		table(w, []string{"SEQ", "OPERATION", "ICCID", "ADDRESS"}, rows)
	})
}
