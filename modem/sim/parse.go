package sim

import (
	"errors"
	"strconv"
	"strings"
)

// Command operators.
const (
	opAction = iota // AT+CGMI, ATE0
	opRead          // AT+CFUN?
	opTest          // AT+CFUN=?
	opSet           // AT+CFUN=1
)

// command is one command of a command line.
type command struct {
	name string // upper case: "" (bare AT), "E", "&F", "S3", "+CGMI", "%IPSYS"
	op   int
	arg  string // parameter text: the digits of a basic command, the text after '=' of an extended one
}

var errSyntax = errors.New("syntax error")

// parseLine splits the text after "AT" into commands (V.250 5.4): basic
// commands may follow each other directly (ATE0V1), extended commands are
// separated by ';'. Spaces outside quotes are ignored.
func parseLine(body string) ([]command, error) {
	s := stripSpaces(body)
	if s == "" {
		return []command{{}}, nil
	}
	var cmds []command
	for i := 0; i < len(s); {
		c := upper(s[i])
		switch {
		case c == ';':
			i++
		case strings.IndexByte("+*%^$#!", c) >= 0:
			cmd, n, err := parseExtended(s[i:])
			if err != nil {
				return nil, err
			}
			cmds = append(cmds, cmd)
			i += n
		case c == 'S':
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j == i+1 {
				return nil, errSyntax
			}
			cmd := command{name: "S" + s[i+1:j]}
			switch {
			case j < len(s) && s[j] == '?':
				cmd.op = opRead
				j++
			case j < len(s) && s[j] == '=':
				k := j + 1
				for k < len(s) && isDigit(s[k]) {
					k++
				}
				cmd.op, cmd.arg = opSet, s[j+1:k]
				j = k
			}
			cmds = append(cmds, cmd)
			i = j
		case c == 'D':
			// Dial takes the rest of the line.
			cmds = append(cmds, command{name: "D", arg: s[i+1:]})
			i = len(s)
		case c == '&' || (c >= 'A' && c <= 'Z'):
			j := i + 1
			name := string(c)
			if c == '&' {
				if j >= len(s) || upper(s[j]) < 'A' || upper(s[j]) > 'Z' {
					return nil, errSyntax
				}
				name += string(upper(s[j]))
				j++
			}
			k := j
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			cmds = append(cmds, command{name: name, arg: s[j:k]})
			i = k
		default:
			return nil, errSyntax
		}
	}
	if len(cmds) == 0 {
		return []command{{}}, nil
	}
	return cmds, nil
}

// parseExtended parses one extended command at the start of s and returns
// it with the number of bytes consumed.
func parseExtended(s string) (command, int, error) {
	j := 1
	for j < len(s) && strings.IndexByte("=?;", s[j]) < 0 {
		j++
	}
	if j == 1 {
		return command{}, 0, errSyntax
	}
	cmd := command{name: strings.ToUpper(s[:j])}
	switch {
	case strings.HasPrefix(s[j:], "=?"):
		cmd.op = opTest
		j += 2
	case strings.HasPrefix(s[j:], "?"):
		cmd.op = opRead
		j++
	case strings.HasPrefix(s[j:], "="):
		cmd.op = opSet
		k := j + 1
		quoted := false
		for k < len(s) && (quoted || s[k] != ';') {
			if s[k] == '"' {
				quoted = !quoted
			}
			k++
		}
		if quoted {
			return command{}, 0, errSyntax
		}
		cmd.arg = s[j+1 : k]
		j = k
	}
	if j < len(s) && s[j] != ';' {
		return command{}, 0, errSyntax
	}
	return cmd, j, nil
}

// stripSpaces removes spaces outside double quotes.
func stripSpaces(s string) string {
	if strings.IndexByte(s, ' ') < 0 {
		return s
	}
	var b strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			quoted = !quoted
		}
		if c == ' ' && !quoted {
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// splitArgs splits a parameter list at commas outside quotes. An empty
// string has no parameters.
func splitArgs(s string) []string {
	if s == "" {
		return nil
	}
	var args []string
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				args = append(args, s[start:i])
				start = i + 1
			}
		}
	}
	return append(args, s[start:])
}

// unquote strips one pair of surrounding double quotes.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// atoi parses a non-negative decimal parameter of at most 9 digits.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// intArgs parses every parameter as a number; an empty parameter yields def.
func intArgs(args []string, def int) ([]int, bool) {
	out := make([]int, len(args))
	for i, a := range args {
		if a == "" {
			out[i] = def
			continue
		}
		n, ok := atoi(a)
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
