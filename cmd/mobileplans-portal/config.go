package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// config is the helper's command line.
type config struct {
	title         string
	width, height int
	allowedHost   string
	caFile        string
	logLevel      slog.Level
}

// parseFlags parses the command line (without the program name).
func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := config{logLevel: slog.LevelInfo}
	fs := flag.NewFlagSet("mobileplans-portal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.title, "title", "Mobile Plans", "window title")
	fs.IntVar(&c.width, "width", 800, "width of the portal frame in pixels")
	fs.IntVar(&c.height, "height", 600, "height of the portal frame in pixels")
	fs.StringVar(&c.allowedHost, "allowed-host", "", "the operator's callback host (host or host:port) the bridge accepts calls from")
	fs.StringVar(&c.caFile, "ca", "", "PEM `file` of test CAs whose server certificates are accepted")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log level on stderr (debug, info, warn, error)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.allowedHost == "" {
		return config{}, errors.New("--allowed-host is required")
	}
	if c.width < 200 || c.height < 150 || c.width > 8192 || c.height > 8192 {
		return config{}, fmt.Errorf("frame size %dx%d is out of range", c.width, c.height)
	}
	return c, nil
}
