//go:build nogui

package main

import "github.com/mobileplans/mobileplans/cli"

// desktopUI: this build has no desktop app.
func desktopUI() cli.UIFunc { return nil }
