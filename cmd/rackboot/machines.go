package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/rackboot/rackboot/admin"
	"github.com/rackboot/rackboot/api"
)

// newMachinesCommand wraps the admin API: machines add|rm|list against a
// running rackboot (docs/operations.md#rackboot-machines).
func newMachinesCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "machines add|rm|list",
		Short: "Add, remove and list machines through a running rackboot's API",
	}
	pf := cmd.PersistentFlags()
	pf.String("server", defaultServer, "the running rackboot's HTTP address")
	pf.String("token-file", "", "file holding the admin token (default: "+admin.TokenEnv+")")
	add := &cobra.Command{
		Use:   "add MAC --profile NAME [--hostname H] [--label KEY=VALUE]... [--replace]",
		Short: "Give a machine a profile (adopt a discovered machine)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{}
			if p := v.GetString("profile"); p != "" {
				body["profile"] = p
			}
			if h := v.GetString("hostname"); h != "" {
				body["hostname"] = h
			}
			if labels := v.GetStringSlice("label"); len(labels) > 0 {
				m := map[string]string{}
				for _, l := range labels {
					k, val, ok := strings.Cut(l, "=")
					if !ok {
						return fmt.Errorf("--label %q: want KEY=VALUE", l)
					}
					m[k] = val
				}
				body["labels"] = m
			}
			method := http.MethodPost
			if v.GetBool("replace") {
				method = http.MethodPut
			}
			b, _ := json.Marshal(body)
			out, err := apiCall(v, method, "/api/v1/machines/"+url.PathEscape(args[0]), b)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	add.Flags().String("profile", "", "the profile to boot")
	add.Flags().String("hostname", "", "the machine's host name")
	add.Flags().StringSlice("label", nil, "a label, KEY=VALUE (repeat for more)")
	add.Flags().Bool("replace", false, "replace the machine if the API has it already (PUT)")
	rm := &cobra.Command{
		Use:   "rm MAC",
		Short: "Remove a machine made through the API",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := apiCall(v, http.MethodDelete, "/api/v1/machines/"+url.PathEscape(args[0]), nil)
			if err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", args[0])
			}
			return err
		},
	}
	list := &cobra.Command{
		Use:   "list [--state discovered] [--json]",
		Short: "List the machines rackboot knows (GET /api/v1/machines)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := "/api/v1/machines"
			if s := v.GetString("state"); s != "" {
				path += "?state=" + url.QueryEscape(s)
			}
			out, err := apiCall(v, http.MethodGet, path, nil)
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				fmt.Fprint(cmd.OutOrStdout(), string(out))
				return nil
			}
			var body struct {
				Machines []api.Machine `json:"machines"`
			}
			if err := json.Unmarshal(out, &body); err != nil {
				return fmt.Errorf("GET %s: not the answer of a rackboot API: %w", path, err)
			}
			printMachines(cmd.OutOrStdout(), body.Machines, time.Now())
			return nil
		},
	}
	list.Flags().String("state", "", "only machines in this state (discovered, ...)")
	list.Flags().Bool("json", false, "print the API's JSON as it is")
	cmd.AddCommand(add, rm, list)
	return cmd
}

// apiCall sends one request with the admin token and returns the body of
// a 2xx answer; otherwise an error with the API's message and field
// errors.
func apiCall(v *viper.Viper, method, path string, body []byte) ([]byte, error) {
	token := os.Getenv(admin.TokenEnv)
	if f := v.GetString("token-file"); f != "" {
		t, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		token = strings.TrimSpace(string(t))
	}
	req, err := http.NewRequest(method, strings.TrimRight(v.GetString("server"), "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return out, nil
	}
	var e struct {
		Error  string             `json:"error"`
		Errors []admin.FieldError `json:"errors"`
	}
	if json.Unmarshal(out, &e) != nil || e.Error == "" {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(out)))
	}
	msg := []string{fmt.Sprintf("%s (%s)", e.Error, resp.Status)}
	for _, fe := range e.Errors {
		if fe.Field != "" {
			msg = append(msg, "  "+fe.Field+": "+fe.Message)
		} else {
			msg = append(msg, "  "+fe.Message)
		}
	}
	return nil, errors.New(strings.Join(msg, "\n"))
}
