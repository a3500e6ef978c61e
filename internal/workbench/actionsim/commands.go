package actionsim

import (
	"strings"
)

// Command is a workflow command the runner recognised in a stage's stdout or stderr.
type Command struct {
	Name       string            // lower-cased command name (error, warning, add-mask, ...)
	Properties map[string]string // unescaped
	Data       string            // unescaped message
	Line       string            // the raw line
}

// The parsing and unescaping here are written from the runner's source (ActionCommand.cs), not
// shared with internal/actions, so a mistake in the action's escaping cannot hide itself in tests.

// registeredCommands are the command names the runner acts on (ActionCommandManager and its
// extensions); any other "::name::" line is plain text.
var registeredCommands = map[string]bool{
	"stop-commands": true, "add-mask": true, "add-matcher": true, "remove-matcher": true,
	"debug": true, "notice": true, "warning": true, "error": true, "group": true, "endgroup": true,
	"echo": true, "set-output": true, "save-state": true, "set-env": true, "add-path": true,
}

// commandScanner keeps the runner's state across lines: the stop-commands token and the masks
// registered so far (a mask hides only what is printed after it).
type commandScanner struct {
	stopToken string // lower-cased; "" when commands are processed
	masks     []string
}

// ParseCommands returns the workflow commands in out, with the runner's rules: lines split on
// CR, LF or CRLF; a "::name ...::data" line is a command after trimming leading white space; the
// legacy "##[name ...]data" form is found anywhere in a line; names are case-insensitive and only
// registered ones count; "::stop-commands::TOKEN" ignores everything up to a "::TOKEN::" line.
func ParseCommands(out string) []Command {
	var s commandScanner
	cmds, _ := s.scan(out)
	return cmds
}

// scan parses out and also builds the log the user would see, masked as the runner masks it.
func (s *commandScanner) scan(out string) ([]Command, string) {
	var cmds []Command
	var log strings.Builder
	for _, line := range splitLines(out) {
		known := func(name string) bool {
			return registeredCommands[name] || (s.stopToken != "" && name == s.stopToken)
		}
		cmd, ok := parseV2(line, known)
		if !ok {
			cmd, ok = parseV1(line, known)
		}
		if !ok {
			log.WriteString(s.mask(line) + "\n")
			continue
		}
		if s.stopToken != "" {
			if cmd.Name == s.stopToken {
				s.stopToken = ""
			}
			log.WriteString(s.mask(line) + "\n")
			continue
		}
		if cmd.Name == "stop-commands" {
			s.stopToken = strings.ToLower(cmd.Data)
			cmds = append(cmds, cmd)
			log.WriteString(s.mask(line) + "\n")
			continue
		}
		if cmd.Name == "add-mask" && strings.TrimSpace(cmd.Data) != "" {
			s.masks = append(s.masks, cmd.Data)
			// The runner also masks each line of a multi-line secret.
			for _, l := range splitLines(cmd.Data) {
				if strings.TrimSpace(l) != "" && l != cmd.Data {
					s.masks = append(s.masks, l)
				}
			}
			cmds = append(cmds, cmd)
			continue
		}
		cmds = append(cmds, cmd)
		switch cmd.Name {
		case "group":
			log.WriteString(s.mask("▸ "+cmd.Data) + "\n")
		case "endgroup":
		default:
			log.WriteString(s.mask(line) + "\n")
		}
	}
	return cmds, log.String()
}

func (s *commandScanner) mask(line string) string {
	for _, m := range s.masks {
		line = strings.ReplaceAll(line, m, "***")
	}
	return line
}

// splitLines splits like .NET's ReadLine, which the runner uses on a process's output.
func splitLines(out string) []string {
	out = strings.ReplaceAll(out, "\r\n", "\n")
	out = strings.ReplaceAll(out, "\r", "\n")
	out = strings.TrimSuffix(out, "\n")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func parseV2(line string, known func(string) bool) (Command, bool) {
	msg := strings.TrimLeft(line, " \t\v\f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
	if !strings.HasPrefix(msg, "::") {
		return Command{}, false
	}
	end := strings.Index(msg[2:], "::")
	if end < 0 {
		return Command{}, false
	}
	info := msg[2 : 2+end]
	name, props, _ := strings.Cut(info, " ")
	name = strings.ToLower(name)
	if !known(name) {
		return Command{}, false
	}
	cmd := Command{Name: name, Properties: map[string]string{}, Line: line}
	for _, p := range strings.Split(strings.TrimSpace(props), ",") {
		k, v, ok := strings.Cut(p, "=")
		if ok && k != "" && v != "" {
			cmd.Properties[k] = unescapeProperty(v)
		}
	}
	cmd.Data = unescapeData(msg[2+end+2:])
	return cmd, true
}

func parseV1(line string, known func(string) bool) (Command, bool) {
	i := strings.Index(line, "##[")
	if i < 0 {
		return Command{}, false
	}
	rb := strings.Index(line[i:], "]")
	if rb < 0 {
		return Command{}, false
	}
	info := line[i+3 : i+rb]
	name, props, _ := strings.Cut(info, " ")
	name = strings.ToLower(name)
	if !known(name) {
		return Command{}, false
	}
	cmd := Command{Name: name, Properties: map[string]string{}, Line: line}
	for _, p := range strings.Split(props, ";") {
		k, v, ok := strings.Cut(p, "=")
		if ok && k != "" && v != "" {
			cmd.Properties[k] = unescapeV1(v)
		}
	}
	cmd.Data = unescapeV1(line[i+rb+1:])
	return cmd, true
}

func unescapeData(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(s)
}

func unescapeProperty(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(s)
}

func unescapeV1(s string) string {
	return strings.NewReplacer("%3B", ";", "%0D", "\r", "%0A", "\n", "%5D", "]", "%25", "%").Replace(s)
}
