// Command mobileplans buys a cellular plan and activates it on this device's
// eSIM. Without a command it starts the desktop app (builds with the nogui
// tag have the command line only; see cli.NewRootCommand).
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
	code := cli.ExecuteWithUI(ctx, os.Args[1:], os.Stdout, os.Stderr, desktopUI())
	stop()
	os.Exit(code)
}
