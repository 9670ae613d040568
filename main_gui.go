//go:build !nogui

package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/mobileplans/mobileplans/assets"
	"github.com/mobileplans/mobileplans/cli"
	"github.com/mobileplans/mobileplans/internal/desktopapp"
	"github.com/mobileplans/mobileplans/internal/launch"
)

// desktopUI runs the Fyne desktop app on this process's main thread.
func desktopUI() cli.UIFunc {
	return func(ctx context.Context, o cli.UIOptions) error {
		a := fyneapp.NewWithID(desktopapp.AppID)
		a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon()))
		// The diagnostics view shows info and up whatever --log-level says.
		opts := desktopapp.Options{StateDir: o.StateDir, LogLevel: min(o.LogLevel, slog.LevelInfo),
			ErrLog: os.Stderr, ErrLevel: o.LogLevel, Autopilot: o.Autopilot}
		// MOBILEPLANS_PORTAL orders the portal windows, e.g. "browser" to
		// use the system browser, "chromium,browser" to skip WebKit.
		if k := os.Getenv("MOBILEPLANS_PORTAL"); k != "" {
			opts.PortalKinds = strings.Split(k, ",")
		}
		if o.Mock {
			opts.Override = &launch.Settings{Mock: true, MockDir: o.MockDir}
		}
		d, err := desktopapp.New(a, opts)
		if err != nil {
			return err
		}
		go func() {
			<-ctx.Done()
			// On the UI goroutine: Quit closes the windows and walks their
			// trees (the race detector caught a Quit from here racing with
			// the screens being built).
			fyne.Do(a.Quit)
		}()
		d.Window.ShowAndRun()
		d.UI.Close()
		return nil
	}
}
