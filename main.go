// Command mobileplans buys a cellular plan and activates it on this device's
// eSIM; this build offers the command line (see cli.NewRootCommand).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mobileplans/mobileplans/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
