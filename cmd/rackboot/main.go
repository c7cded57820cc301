// Command rackboot is a network boot appliance: DHCP (full or proxy), TFTP
// and HTTP in one process, driven by one YAML inventory.
package main

import (
	"fmt"
	"os"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "rackboot:", err)
		os.Exit(1)
	}
}

// newRootCommand builds the command tree. Every flag of every subcommand
// may also be given as an environment variable: --log-level as
// RACKBOOT_LOG_LEVEL, --data-dir as RACKBOOT_DATA_DIR.
func newRootCommand() *cobra.Command {
	v := newSettings()
	root := &cobra.Command{
		Use:           "rackboot",
		Short:         "Network boot appliance: DHCP, TFTP and HTTP from one inventory",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return bindFlags(cmd, v)
		},
	}
	root.AddCommand(newServeCommand(v), newCheckCommand(v), newVersionCommand(), newLeasesCommand(v), newDoctorCommand(v), newStatusCommand(v), newMachinesCommand(v), newInventoryCommand(v))
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "rackboot", version)
		},
	}
}

// newLogger returns a logger on stderr at the named level, in the named
// format: text, json, or "" for text when stderr is a terminal and JSON
// otherwise (a file, journald, a log shipper).
func newLogger(level, format string) (*logrus.Logger, error) {
	lvl, err := logrus.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("--log-level %q: want one of trace, debug, info, warn, error", level)
	}
	log := logrus.New()
	log.SetOutput(os.Stderr)
	log.SetLevel(lvl)
	f, err := logFormatter(format, isTerminal(os.Stderr))
	if err != nil {
		return nil, err
	}
	log.SetFormatter(f)
	return log, nil
}

// logFormatter is the formatter for --log-format.
func logFormatter(format string, terminal bool) (logrus.Formatter, error) {
	switch format {
	case "":
		if terminal {
			return logFormatter("text", true)
		}
		return logFormatter("json", false)
	case "text":
		return &logrus.TextFormatter{FullTimestamp: true, DisableColors: true}, nil
	case "json":
		return &logrus.JSONFormatter{}, nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
