package cli

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

func newProfileCommand(o *options) *cobra.Command {
	p := &cobra.Command{Use: "profile", Short: "List and manage the profiles on the eUICC"}
	var refresh bool
	enable := &cobra.Command{
		Use:   "enable ICCID",
		Short: "Enable a profile (the enabled one is disabled first)",
		Args:  exactArgs("ICCID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return profileOp(cmd, o, args[0], "enabled", func(ctx context.Context, s *session, c *lpa.Client, id rsp.ICCID) error {
				if err := c.Enable(ctx, rsp.ProfileID{ICCID: id}, refresh); err != nil {
					return err
				}
				return s.switched(ctx, refresh, true)
			})
		},
	}
	enable.Flags().BoolVar(&refresh, "refresh", true, "ask the modem to reset the card so the new profile is used at once")
	disable := &cobra.Command{
		Use:   "disable ICCID",
		Short: "Disable the enabled profile",
		Args:  exactArgs("ICCID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return profileOp(cmd, o, args[0], "disabled", func(ctx context.Context, s *session, c *lpa.Client, id rsp.ICCID) error {
				if err := c.Disable(ctx, rsp.ProfileID{ICCID: id}, refresh); err != nil {
					return err
				}
				return s.switched(ctx, refresh, false)
			})
		},
	}
	disable.Flags().BoolVar(&refresh, "refresh", true, "ask the modem to reset the card")
	var listState string
	var listQuiet bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the installed profiles",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var want rsp.ProfileState
			switch listState {
			case "":
			case "enabled":
				want = rsp.ProfileEnabled
			case "disabled":
				want = rsp.ProfileDisabled
			default:
				return usageError("--state %q: want enabled or disabled", listState)
			}
			return o.withLPA(cmd, func(ctx context.Context, c *lpa.Client) error {
				ps, err := c.Profiles(ctx)
				if err != nil {
					return err
				}
				if listState != "" {
					kept := ps[:0]
					for _, p := range ps {
						if p.State == want {
							kept = append(kept, p)
						}
					}
					ps = kept
				}
				if listQuiet && !o.p.json {
					for _, p := range ps {
						fmt.Fprintln(o.p.w, p.ICCID)
					}
					return nil
				}
				return printProfiles(o, ps)
			})
		},
	}
	list.Flags().StringVar(&listState, "state", "", "only profiles in this state: enabled or disabled")
	list.Flags().BoolVarP(&listQuiet, "quiet", "q", false, "print only the ICCIDs, one per line")
	p.AddCommand(
		list,
		newDownloadCommand(o),
		enable, disable,
		&cobra.Command{
			Use:   "delete ICCID",
			Short: "Delete a disabled profile",
			Args:  exactArgs("ICCID"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return profileOp(cmd, o, args[0], "deleted", func(ctx context.Context, _ *session, c *lpa.Client, id rsp.ICCID) error {
					return c.Delete(ctx, rsp.ProfileID{ICCID: id})
				})
			},
		},
		&cobra.Command{
			Use:   "nickname ICCID NAME",
			Short: "Set a profile's nickname (empty to clear; at most 64 bytes)",
			Args:  exactArgs("ICCID", "NAME"),
			RunE: func(cmd *cobra.Command, args []string) error {
				if len(args[1]) > 64 {
					return usageError("nickname is %d bytes, at most 64 allowed", len(args[1]))
				}
				return profileOp(cmd, o, args[0], "renamed", func(ctx context.Context, _ *session, c *lpa.Client, id rsp.ICCID) error {
					return c.SetNickname(ctx, id, args[1])
				})
			},
		},
	)
	return p
}

// profileOp validates the ICCID, runs op and prints the outcome.
func profileOp(cmd *cobra.Command, o *options, arg, done string, op func(context.Context, *session, *lpa.Client, rsp.ICCID) error) error {
	id, err := parseICCID(arg)
	if err != nil {
		return err
	}
	return o.withSession(cmd, func(ctx context.Context, s *session, c *lpa.Client) error {
		if err := op(ctx, s, c, id); err != nil {
			return fmt.Errorf("profile %s: %w", id, err)
		}
		return o.p.result(nil, func(w io.Writer) { fmt.Fprintf(w, "profile %s %s\n", id, done) })
	})
}

// profileData is lpac's profile JSON shape.
type profileData struct {
	ICCID    string  `json:"iccid"`
	ISDPAID  string  `json:"isdpAid"`
	State    string  `json:"profileState"`
	Nickname *string `json:"profileNickname"`
	SPN      string  `json:"serviceProviderName"`
	Name     string  `json:"profileName"`
	IconType *string `json:"iconType"`
	Icon     *string `json:"icon"`
	Class    *string `json:"profileClass"`
}

func toProfileData(p rsp.ProfileInfo) profileData {
	d := profileData{
		ICCID:   string(p.ICCID),
		ISDPAID: strings.ToLower(hex.EncodeToString(p.ISDPAID)),
		State:   p.State.String(),
		SPN:     p.ServiceProviderName,
		Name:    p.ProfileName,
	}
	if p.Nickname != "" {
		n := p.Nickname
		d.Nickname = &n
	}
	if p.IconType != nil {
		s := p.IconType.String()
		d.IconType = &s
	}
	if len(p.Icon) > 0 {
		s := base64.StdEncoding.EncodeToString(p.Icon)
		d.Icon = &s
	}
	if p.Class != nil {
		s := p.Class.String()
		d.Class = &s
	}
	return d
}

func printProfiles(o *options, ps []rsp.ProfileInfo) error {
	data := make([]profileData, 0, len(ps))
	rows := make([][]string, 0, len(ps))
	for _, p := range ps {
		d := toProfileData(p)
		data = append(data, d)
		nick, class := "", ""
		if d.Nickname != nil {
			nick = *d.Nickname
		}
		if d.Class != nil {
			class = *d.Class
		}
		rows = append(rows, []string{d.ICCID, d.State, d.SPN, d.Name, nick, class})
	}
	return o.p.result(data, func(w io.Writer) {
		if len(rows) == 0 {
			fmt.Fprintln(w, "no profiles installed")
			return
		}
		table(w, []string{"ICCID", "STATE", "PROVIDER", "NAME", "NICKNAME", "CLASS"}, rows)
	})
}
