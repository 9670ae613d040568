package cli

import (
	"github.com/spf13/cobra"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

// exactArgs is cobra.ExactArgs with a usage error that names the arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageError("want %d argument(s): %v, got %d", len(names), names, len(args))
		}
		return nil
	}
}

// parseICCID validates an ICCID argument before anything touches the card.
func parseICCID(s string) (rsp.ICCID, error) {
	id, err := rsp.ParseICCID(s)
	if err != nil {
		return "", usageError("ICCID %q: %v", s, err)
	}
	return id, nil
}
