package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/rackboot/rackboot/api"
	"github.com/rackboot/rackboot/events"
	"github.com/rackboot/rackboot/timeline"
)

// defaultServer is the local rackboot at the default server.http_port.
const defaultServer = "http://127.0.0.1:8080"

// newStatusCommand prints the machines of a running server, or one
// machine's timeline, from its /api/v1 (docs/observe.md).
func newStatusCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status [MAC] [--server URL]",
		Short: "Show every machine's boot state, or one machine's timeline, from a running server",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := statusClient{base: strings.TrimRight(v.GetString("server"), "/"), http: &http.Client{Timeout: 10 * time.Second}}
			if len(args) == 0 {
				return c.list(cmd.Context(), cmd.OutOrStdout())
			}
			mac, err := events.ParseMAC(args[0])
			if err != nil {
				return fmt.Errorf("%q is not a MAC address (six hex bytes such as 52:54:00:12:34:56)", args[0])
			}
			return c.one(cmd.Context(), cmd.OutOrStdout(), mac)
		},
	}
	cmd.Flags().String("server", defaultServer, "the running rackboot's HTTP address")
	return cmd
}

// statusClient reads the API of one server.
type statusClient struct {
	base string
	http *http.Client
}

// get reads path into v; an API error becomes an error with its message.
func (c statusClient) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return fmt.Errorf("--server %q: %w", c.base, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("is rackboot running? %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading %s: %w", req.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s: %s", req.URL, e.Error)
		}
		return fmt.Errorf("%s: %s", req.URL, resp.Status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: not the answer of a rackboot API: %w", req.URL, err)
	}
	return nil
}

func (c statusClient) list(ctx context.Context, out io.Writer) error {
	var body struct {
		Machines []api.Machine `json:"machines"`
		Timeline bool          `json:"timeline"`
	}
	if err := c.get(ctx, "/api/v1/machines", &body); err != nil {
		return err
	}
	printMachines(out, body.Machines, time.Now())
	if !body.Timeline {
		fmt.Fprintln(out, "(the timeline is off on this server: timeline.enabled is false)")
	}
	return nil
}

// printMachines writes one line per machine.
func printMachines(out io.Writer, ms []api.Machine, now time.Time) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MAC\tHOSTNAME\tSTATE\tFIRMWARE\tADDRESS\tPROFILE\tLAST SEEN\tBOOT\tDETAIL")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.MAC, dash(m.Hostname), stateText(m.Machine), dash(firmware(m.Machine)),
			dash(m.Addr), dash(profileText(m)), ago(m.LastSeen, now), seconds(m.BootSeconds), dash(shorten(m.Detail, 60)))
	}
	tw.Flush()
}

func (c statusClient) one(ctx context.Context, out io.Writer, mac events.MAC) error {
	var m struct {
		api.Machine
		Events []timeline.Entry `json:"events"`
	}
	if err := c.get(ctx, "/api/v1/machines/"+url.PathEscape(mac.String()), &m); err != nil {
		return err
	}
	printMachine(out, m.Machine, m.Events, time.Now())
	return nil
}

// printMachine writes a machine's summary and its timeline.
func printMachine(out io.Writer, m api.Machine, evs []timeline.Entry, now time.Time) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"mac", m.MAC}, {"hostname", dash(m.Hostname)}, {"state", stateText(m.Machine)}, {"firmware", dash(firmware(m.Machine))},
		{"address", dash(m.Addr)}, {"profile", dash(profileText(m))}, {"detail", dash(m.Detail)}, {"last error", dash(m.LastError)},
		{"first seen", ago(m.FirstSeen, now)}, {"last seen", ago(m.LastSeen, now)}, {"boot", seconds(m.BootSeconds)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	if r := m.RefusedIPXE; r != nil {
		fmt.Fprintf(tw, "refused iPXE:\t%s\n", refusalText(r, now))
	}
	tw.Flush()
	if len(evs) == 0 {
		fmt.Fprintln(out, "\nno events")
		return
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\t+S\tKIND\tWHAT\tRESULT")
	start := evs[0].Time
	for _, e := range evs {
		what, result := describe(e)
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t%s\n", e.Time.Local().Format("15:04:05.000"), e.Time.Sub(start).Seconds(), e.Kind, what, result)
	}
	tw.Flush()
}

// refusalText says how often the machine's firmware refused iPXE, and
// what loader auto does about it.
func refusalText(r *timeline.IPXERefusals, now time.Time) string {
	s := fmt.Sprintf("%d time(s), last %s (%s)", r.Count, ago(r.Last, now), r.Program)
	if r.Active {
		return s + "; loader auto gives it the signed chain until iPXE runs there"
	}
	return s + "; iPXE has run there since"
}

// describe says what an event asked and what it got.
func describe(e timeline.Entry) (what, result string) {
	switch e.Kind {
	case "dhcp", "proxydhcp":
		if strings.HasPrefix(e.Reason, timeline.RefusedReason) {
			return strings.TrimSpace(e.Message + " " + e.Class), e.Reason
		}
		what = strings.TrimSpace(e.Message + " " + e.Class)
		if e.Arch != nil {
			what += fmt.Sprintf(" arch %d", *e.Arch)
		}
		result = e.Reply
		if result == "" {
			result = "no answer"
		}
		if e.Addr != "" && e.Kind == "dhcp" {
			result += " " + e.Addr
		}
		if e.File != "" {
			result += " boot " + e.File
		}
		if e.Profile != "" {
			result += " profile " + e.Profile
		}
	case "report":
		return "report", e.State
	default:
		what = strings.TrimSpace(e.Step + " " + e.File)
		result = fmt.Sprintf("%d bytes in %.0f ms", e.Bytes, e.Duration)
		if e.Kind == "http" {
			result = fmt.Sprintf("%d, %s", e.Status, result)
		}
	}
	switch {
	case e.Error != "":
		result += ": " + e.Error
	case e.Reason != "" && e.Kind != "dhcp" && e.Kind != "proxydhcp" || e.Reason != "" && e.Reply == "":
		result += " (" + e.Reason + ")"
	}
	return what, result
}

func stateText(m timeline.Machine) string {
	if m.State == timeline.StateStalled && m.StalledAt != "" {
		return "stalled at " + string(m.StalledAt)
	}
	return string(m.State)
}

func firmware(m timeline.Machine) string {
	if m.Arch != nil {
		return fmt.Sprintf("%s/%d", m.Firmware, *m.Arch)
	}
	return m.Firmware
}

func profileText(m api.Machine) string {
	switch {
	case m.Profile == "":
		return ""
	case m.Reason == "":
		return m.Profile
	}
	return m.Profile + " (" + m.Reason + ")"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func ago(t, now time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "-"
	}
	return now.Sub(t).Round(time.Second).String() + " ago"
}

func seconds(s float64) string {
	if s <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fs", s)
}
