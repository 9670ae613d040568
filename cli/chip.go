package cli

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileplans/mobileplans/esim/lpa"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

func newChipCommand(o *options) *cobra.Command {
	chip := &cobra.Command{Use: "chip", Short: "eUICC information and chip-wide settings"}
	chip.AddCommand(
		&cobra.Command{
			Use:   "info",
			Short: "Show the EID, configured SM-DP+/SM-DS addresses and EUICCInfo2",
			Args:  exactArgs(),
			RunE: func(cmd *cobra.Command, _ []string) error {
				return o.withLPA(cmd, func(ctx context.Context, c *lpa.Client) error { return chipInfo(ctx, o, c) })
			},
		},
		newDefaultSMDPCommand(o),
		newPurgeCommand(o),
	)
	return chip
}

type chipInfoData struct {
	EID       string         `json:"eidValue"`
	Addresses addressesData  `json:"EuiccConfiguredAddresses"`
	Info2     euiccInfo2Data `json:"EUICCInfo2"`
	Info1     map[string]any `json:"EUICCInfo1"`
}

type addressesData struct {
	DefaultDP string `json:"defaultDpAddress"`
	RootDS    string `json:"rootDsAddress"`
}

type euiccInfo2Data struct {
	ProfileVersion  string         `json:"profileVersion"`
	SVN             string         `json:"svn"`
	FirmwareVersion string         `json:"euiccFirmwareVer"`
	ExtCardResource map[string]any `json:"extCardResource"`
	TS102241        string         `json:"ts102241Version,omitempty"`
	GP              string         `json:"globalplatformVersion,omitempty"`
	CIVerification  []string       `json:"euiccCiPKIdListForVerification"`
	CISigning       []string       `json:"euiccCiPKIdListForSigning"`
	Category        *int           `json:"euiccCategory,omitempty"`
	PPVersion       string         `json:"ppVersion"`
	SAS             string         `json:"sasAcreditationNumber"`
}

func hexList(ids [][]byte) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, strings.ToLower(hex.EncodeToString(id)))
	}
	return out
}

func verString(v *rsp.Version) string {
	if v == nil {
		return ""
	}
	return v.String()
}

func chipInfo(ctx context.Context, o *options, c *lpa.Client) error {
	eid, err := c.EID(ctx)
	if err != nil {
		return err
	}
	addrs, err := c.ConfiguredAddresses(ctx)
	if err != nil {
		return err
	}
	i1, err := c.EUICCInfo1(ctx)
	if err != nil {
		return err
	}
	i2, err := c.EUICCInfo2(ctx)
	if err != nil {
		return err
	}
	d := chipInfoData{
		EID:       string(eid),
		Addresses: addressesData{DefaultDP: addrs.DefaultDPAddress, RootDS: addrs.RootDSAddress},
		Info1: map[string]any{
			"svn":                            i1.SVN.String(),
			"euiccCiPKIdListForVerification": hexList(i1.CIPKIDsForVerification),
			"euiccCiPKIdListForSigning":      hexList(i1.CIPKIDsForSigning),
		},
		Info2: euiccInfo2Data{
			ProfileVersion:  i2.ProfileVersion.String(),
			SVN:             i2.SVN.String(),
			FirmwareVersion: i2.FirmwareVersion.String(),
			ExtCardResource: map[string]any{
				"installedApplication":  i2.ExtCardResource.InstalledApplications,
				"freeNonVolatileMemory": i2.ExtCardResource.FreeNVM,
				"freeVolatileMemory":    i2.ExtCardResource.FreeRAM,
			},
			TS102241:       verString(i2.TS102241Version),
			GP:             verString(i2.GlobalPlatformVersion),
			CIVerification: hexList(i2.CIPKIDsForVerification),
			CISigning:      hexList(i2.CIPKIDsForSigning),
			Category:       i2.Category,
			PPVersion:      i2.PPVersion.String(),
			SAS:            i2.SASAccreditationNumber,
		},
	}
	return o.p.result(d, func(w io.Writer) {
		orNone := func(s string) string {
			if s == "" {
				return "(none)"
			}
			return s
		}
		fmt.Fprintf(w, "EID:                  %s\n", eid)
		fmt.Fprintf(w, "Default SM-DP+:       %s\n", orNone(addrs.DefaultDPAddress))
		fmt.Fprintf(w, "Root SM-DS:           %s\n", orNone(addrs.RootDSAddress))
		fmt.Fprintf(w, "SGP.22 version:       %s\n", i2.SVN)
		fmt.Fprintf(w, "Profile version:      %s\n", i2.ProfileVersion)
		fmt.Fprintf(w, "Firmware:             %s\n", i2.FirmwareVersion)
		fmt.Fprintf(w, "Free memory:          %d bytes NVM, %d bytes RAM, %d applications installed\n",
			i2.ExtCardResource.FreeNVM, i2.ExtCardResource.FreeRAM, i2.ExtCardResource.InstalledApplications)
		fmt.Fprintf(w, "CI keys (verify):     %s\n", orNone(strings.Join(hexList(i2.CIPKIDsForVerification), ", ")))
		fmt.Fprintf(w, "CI keys (sign):       %s\n", orNone(strings.Join(hexList(i2.CIPKIDsForSigning), ", ")))
		if i2.SASAccreditationNumber != "" {
			fmt.Fprintf(w, "SAS accreditation:    %s\n", i2.SASAccreditationNumber)
		}
	})
}

func newDefaultSMDPCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "defaultsmdp [set ADDRESS]",
		Short: "Show or set the default SM-DP+ address stored on the eUICC",
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return nil
			case len(args) == 2 && args[0] == "set":
				return nil
			case len(args) == 1 && args[0] == "set":
				return usageError(`"set" needs an address (use "" to clear it)`)
			}
			return usageError("want no arguments, or: set ADDRESS")
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.withLPA(cmd, func(ctx context.Context, c *lpa.Client) error {
				if len(args) == 2 {
					addr := strings.TrimSpace(args[1])
					if strings.ContainsAny(addr, " /\t") {
						return usageError("SM-DP+ address %q: want a host name with an optional :port", addr)
					}
					if err := c.SetDefaultDPAddress(ctx, addr); err != nil {
						return err
					}
				}
				a, err := c.ConfiguredAddresses(ctx)
				if err != nil {
					return err
				}
				return o.p.result(addressesData{DefaultDP: a.DefaultDPAddress, RootDS: a.RootDSAddress}, func(w io.Writer) {
					if a.DefaultDPAddress == "" {
						fmt.Fprintln(w, "Default SM-DP+: (none)")
					} else {
						fmt.Fprintf(w, "Default SM-DP+: %s\n", a.DefaultDPAddress)
					}
				})
			})
		},
	}
	return cmd
}

func newPurgeCommand(o *options) *cobra.Command {
	var yes, keepTest, keepAddr bool
	cmd := &cobra.Command{
		Use:   "purge --yes",
		Short: "eUICC memory reset: delete all operational profiles (and test profiles, and the default SM-DP+)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes {
				return usageError("this deletes every profile on the eUICC and cannot be undone; repeat with --yes")
			}
			opts := rsp.ResetDeleteOperational
			if !keepTest {
				opts |= rsp.ResetDeleteFieldLoadedTest
			}
			if !keepAddr {
				opts |= rsp.ResetDefaultSMDP
			}
			return o.withLPA(cmd, func(ctx context.Context, c *lpa.Client) error {
				if err := c.MemoryReset(ctx, opts); err != nil {
					return err
				}
				return o.p.result(nil, func(w io.Writer) { fmt.Fprintln(w, "eUICC memory reset done") })
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm that every profile is to be deleted")
	cmd.Flags().BoolVar(&keepTest, "keep-test-profiles", false, "keep field-loaded test profiles")
	cmd.Flags().BoolVar(&keepAddr, "keep-default-smdp", false, "keep the default SM-DP+ address")
	return cmd
}
