// Package dhcp is rackboot's full DHCPv4 server (RFC 2131 section 4.3): the
// client state machine, address pools and fixed addresses, the options of
// each subnet and machine, conflict probes and limits. It answers through
// dhcpwire and keeps leases in a leases.Store.
package dhcp
