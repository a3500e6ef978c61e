package actionsim

import (
	"fmt"
	"strings"
)

// Pair is one NAME/VALUE entry read from a file command (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV).
type Pair struct {
	Name  string
	Value string
}

// ParseFileCommand reads GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV content with the runner's rules
// (FileCommandManager on Linux): lines are split on "\n" only; empty lines between entries are
// skipped; whichever of "=" or "<<" comes first picks the form; a heredoc's value is every line up
// to one equal to the delimiter, without the newline before it; a missing delimiter is an error,
// which in the runner fails the step.
func ParseFileCommand(text string) ([]Pair, error) {
	var pairs []Pair
	idx := 0
	for {
		line, ok := readLine(text, &idx)
		if !ok {
			return pairs, nil
		}
		if line == "" {
			continue
		}
		eq := strings.Index(line, "=")
		hd := strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			name, value, _ := strings.Cut(line, "=")
			if name == "" {
				return pairs, fmt.Errorf("invalid format %q: name must not be empty", line)
			}
			pairs = append(pairs, Pair{Name: name, Value: value})
		case hd >= 0:
			name, delim, _ := strings.Cut(line, "<<")
			if name == "" || delim == "" {
				return pairs, fmt.Errorf("invalid format %q: name and delimiter must not be empty", line)
			}
			start, end := idx, idx
			for {
				lineStart := idx
				l, ok := readLine(text, &idx)
				if !ok {
					return pairs, fmt.Errorf("invalid value for %q: matching delimiter not found %q", name, delim)
				}
				if l == delim {
					break
				}
				// end excludes the newline that ends this value line.
				end = lineStart + len(l)
			}
			value := ""
			if end > start {
				value = text[start:end]
			}
			pairs = append(pairs, Pair{Name: name, Value: value})
		default:
			return pairs, fmt.Errorf("invalid format %q", line)
		}
	}
}

// readLine returns the next "\n"-terminated line (the last one may lack the newline).
func readLine(text string, idx *int) (string, bool) {
	if *idx >= len(text) {
		return "", false
	}
	rest := text[*idx:]
	i := strings.IndexByte(rest, '\n')
	if i < 0 {
		*idx = len(text)
		return rest, true
	}
	*idx += i + 1
	return rest[:i], true
}

// ParseFileCommandMap is ParseFileCommand with later writes of a name replacing earlier ones,
// as the runner's dictionaries do.
func ParseFileCommandMap(text string) (map[string]string, error) {
	pairs, err := ParseFileCommand(text)
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		m[p.Name] = p.Value
	}
	return m, err
}
