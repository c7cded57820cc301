package ipxe

import (
	"fmt"
	"regexp"
	"strings"
)

// iPXE has no quoting: a script line is split on whitespace, a token "||",
// "&&" or ";" ends a command and starts another, a token starting with "#"
// starts a comment, a line ending in "\" continues on the next line, and
// "${...}" inside any token is replaced by a setting. The helpers below keep
// configured and client-supplied values inside the argument they belong to.

// labelName matches the profile names usable as iPXE labels and menu items.
var labelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// CheckArgs returns an error when s cannot be placed on an iPXE command line
// as plain arguments: when it holds a control character, a token that
// separates or comments out commands ("||", "&&", ";", "#..."), or ends in a
// backslash. Settings references such as ${mac} are allowed and are expanded
// by iPXE. config validation may use it for cmdline values.
func CheckArgs(s string) error {
	if i := strings.IndexFunc(s, isControl); i >= 0 {
		return fmt.Errorf("control character %q at offset %d", s[i], i)
	}
	for _, tok := range strings.Fields(s) {
		if breaksCommand(tok) {
			return fmt.Errorf("token %q would end the iPXE command", tok)
		}
	}
	return nil
}

// checkToken returns an error unless s is one iPXE argument: no whitespace,
// and safe for CheckArgs.
func checkToken(what, s string) error {
	if s == "" || len(strings.Fields(s)) != 1 || strings.TrimSpace(s) != s {
		return fmt.Errorf("%s %q must be one word without spaces", what, s)
	}
	if err := CheckArgs(s); err != nil {
		return fmt.Errorf("%s %q: %w", what, s, err)
	}
	return nil
}

// checkLabel returns an error unless name can be used as an iPXE label.
func checkLabel(name string) error {
	if !labelName.MatchString(name) {
		return fmt.Errorf("profile name %q cannot be used in an iPXE script: use letters, digits, '.', '_' and '-'", name)
	}
	return nil
}

// breaksCommand reports whether iPXE would treat tok as something other
// than a plain argument.
func breaksCommand(tok string) bool {
	return tok == "||" || tok == "&&" || tok == ";" ||
		strings.HasPrefix(tok, "#") || strings.HasSuffix(tok, `\`)
}

// isControl reports whether r is an ASCII or Unicode control character.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u2028' || r == '\u2029'
}

// Text makes s safe to print as the trailing arguments of echo, menu or
// item; it never fails. Characters outside printable ASCII (newlines
// included) become '?', "${" loses its meaning, and tokens that would end
// the command are quoted. Callers that put the text first must guard a
// leading '-' (see optionSafe).
func Text(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
	s = strings.ReplaceAll(s, "${", "$ {")
	toks := strings.Fields(s)
	for i, tok := range toks {
		if breaksCommand(tok) {
			toks[i] = "'" + tok + "'"
		}
	}
	return strings.Join(toks, " ")
}

// optionSafe prefixes text with "--" when iPXE's option parser would
// otherwise read its first word as an option.
func optionSafe(text string) string {
	if strings.HasPrefix(text, "-") {
		return "-- " + text
	}
	return text
}
