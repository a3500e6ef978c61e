package actionsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A small subset of the Actions expression language: enough for action.yml defaults, `with:`
// values, pre-if/post-if and runs.args/env. Anything outside it is an error, so a test that
// relies on an unsupported expression fails loudly instead of silently reading "".
//
// Supported: literals ('str' with '' escaping, numbers, true, false, null), property paths
// (a.b.c and a['b']), !, ==, !=, &&, ||, parentheses, and the functions always(), success(),
// failure(), cancelled().

// evalScope is what one evaluation can see.
type evalScope struct {
	contexts  map[string]any  // name → value (map[string]any, string, ...)
	strict    map[string]bool // contexts where a missing property is an error
	allowed   map[string]bool // context names allowed here (nil = all in contexts)
	status    string          // job status for the status functions
	functions bool            // status functions allowed (if-conditions only)
}

var errUnknown = errors.New("unknown expression")

// interpolate replaces each ${{ expr }} in s with its string value.
func interpolate(s string, sc *evalScope) (string, error) {
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		j := findClose(rest[i+3:])
		if j < 0 {
			return "", fmt.Errorf("%q: unterminated ${{", s)
		}
		expr := rest[i+3 : i+3+j]
		v, err := evalExpr(expr, sc)
		if err != nil {
			return "", fmt.Errorf("%q: %w", s, err)
		}
		b.WriteString(toString(v))
		rest = rest[i+3+j+2:]
	}
}

// findClose finds "}}" outside string literals.
func findClose(s string) int {
	inStr := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			inStr = !inStr
		case !inStr && strings.HasPrefix(s[i:], "}}"):
			return i
		}
	}
	return -1
}

// evalCondition evaluates a bare if-expression (pre-if, post-if, a step's if) to a bool.
// A value written with ${{ }} is accepted as well, as for step ifs.
func evalCondition(expr string, sc *evalScope) (bool, error) {
	e := strings.TrimSpace(expr)
	if strings.HasPrefix(e, "${{") && strings.HasSuffix(e, "}}") {
		e = e[3 : len(e)-2]
	}
	v, err := evalExpr(e, sc)
	if err != nil {
		return false, fmt.Errorf("if %q: %w", expr, err)
	}
	return truthy(v), nil
}

func evalExpr(expr string, sc *evalScope) (any, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, sc: sc}
	v, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("%w: unexpected %q in %q", errUnknown, p.toks[p.pos].s, expr)
	}
	return v, nil
}

type token struct {
	kind byte // 'i' ident, 's' string, 'n' number, 'o' operator/punct
	s    string
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("%w: unterminated string in %q", errUnknown, s)
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			toks = append(toks, token{'s', b.String()})
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'x' || s[j] >= 'a' && s[j] <= 'f' || s[j] >= 'A' && s[j] <= 'F') {
				j++
			}
			toks = append(toks, token{'n', s[i:j]})
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && (isIdentStart(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '-') {
				j++
			}
			toks = append(toks, token{'i', s[i:j]})
			i = j
		default:
			for _, op := range []string{"==", "!=", "&&", "||", "<=", ">=", "!", "(", ")", ".", "[", "]", ",", "<", ">", "*"} {
				if strings.HasPrefix(s[i:], op) {
					toks = append(toks, token{'o', op})
					i += len(op)
					goto next
				}
			}
			return nil, fmt.Errorf("%w: unexpected character %q in %q", errUnknown, c, s)
		next:
		}
	}
	return toks, nil
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

type parser struct {
	toks []token
	pos  int
	sc   *evalScope
}

func (p *parser) peek(op string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == 'o' && p.toks[p.pos].s == op
}

func (p *parser) or() (any, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek("||") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		// Like GitHub: the first truthy operand, else the last one.
		if !truthy(l) {
			l = r
		}
	}
	return l, nil
}

func (p *parser) and() (any, error) {
	l, err := p.cmp()
	if err != nil {
		return nil, err
	}
	for p.peek("&&") {
		p.pos++
		r, err := p.cmp()
		if err != nil {
			return nil, err
		}
		if truthy(l) {
			l = r
		}
	}
	return l, nil
}

func (p *parser) cmp() (any, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek("==") || p.peek("!=") {
		op := p.toks[p.pos].s
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		eq := looseEqual(l, r)
		l = eq == (op == "==")
	}
	return l, nil
}

func (p *parser) unary() (any, error) {
	if p.peek("!") {
		p.pos++
		v, err := p.unary()
		if err != nil {
			return nil, err
		}
		return !truthy(v), nil
	}
	return p.primary()
}

func (p *parser) primary() (any, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("%w: unexpected end of expression", errUnknown)
	}
	t := p.toks[p.pos]
	p.pos++
	switch t.kind {
	case 's':
		return t.s, nil
	case 'n':
		f, err := strconv.ParseFloat(t.s, 64)
		if err != nil {
			if n, err2 := strconv.ParseInt(t.s, 0, 64); err2 == nil {
				return float64(n), nil
			}
			return nil, fmt.Errorf("%w: bad number %q", errUnknown, t.s)
		}
		return f, nil
	case 'o':
		if t.s == "(" {
			v, err := p.or()
			if err != nil {
				return nil, err
			}
			if !p.peek(")") {
				return nil, fmt.Errorf("%w: missing )", errUnknown)
			}
			p.pos++
			return v, nil
		}
		return nil, fmt.Errorf("%w: unexpected %q", errUnknown, t.s)
	}
	switch t.s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if p.peek("(") {
		return p.call(t.s)
	}
	return p.path(t.s)
}

func (p *parser) call(name string) (any, error) {
	p.pos++ // (
	if !p.peek(")") {
		return nil, fmt.Errorf("%w: function %s() with arguments is not supported", errUnknown, name)
	}
	p.pos++
	if !p.sc.functions {
		return nil, fmt.Errorf("%w: %s() is not allowed here", errUnknown, name)
	}
	switch strings.ToLower(name) {
	case "always":
		return true, nil
	case "success":
		return p.sc.status == "success", nil
	case "failure":
		return p.sc.status == "failure", nil
	case "cancelled":
		return p.sc.status == "cancelled", nil
	}
	return nil, fmt.Errorf("%w: function %s()", errUnknown, name)
}

func (p *parser) path(root string) (any, error) {
	name := strings.ToLower(root)
	if p.sc.allowed != nil && !p.sc.allowed[name] {
		return nil, fmt.Errorf("%w: context %q is not available here", errUnknown, root)
	}
	v, ok := p.sc.contexts[name]
	if !ok {
		return nil, fmt.Errorf("%w: context %q", errUnknown, root)
	}
	full := root
	depth := 0
	for {
		var key string
		switch {
		case p.peek("."):
			p.pos++
			if p.pos >= len(p.toks) || p.toks[p.pos].kind != 'i' {
				return nil, fmt.Errorf("%w: bad property after %s", errUnknown, full)
			}
			key = p.toks[p.pos].s
			p.pos++
		case p.peek("["):
			p.pos++
			if p.pos+1 >= len(p.toks) || p.toks[p.pos].kind != 's' || p.toks[p.pos+1].kind != 'o' || p.toks[p.pos+1].s != "]" {
				return nil, fmt.Errorf("%w: only ['literal'] indexes are supported after %s", errUnknown, full)
			}
			key = p.toks[p.pos].s
			p.pos += 2
		default:
			return v, nil
		}
		full += "." + key
		depth++
		m, isMap := v.(map[string]any)
		if !isMap {
			v = nil
			continue
		}
		got, found := lookupFold(m, key)
		if !found && depth == 1 && p.sc.strict[name] {
			return nil, fmt.Errorf("%w: %s", errUnknown, full)
		}
		v = got
	}
}

// lookupFold is a case-insensitive map lookup, as context property names are.
func lookupFold(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	}
	return true
}

func looseEqual(a, b any) bool {
	as, aStr := a.(string)
	bs, bStr := b.(string)
	if aStr && bStr {
		return strings.EqualFold(as, bs)
	}
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if ab, ok := a.(bool); ok {
		if bb, ok := b.(bool); ok {
			return ab == bb
		}
	}
	return toString(a) == toString(b)
}

func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'G', 15, 64)
	case map[string]any, []any:
		b, err := json.MarshalIndent(x, "", "  ")
		if err != nil {
			return ""
		}
		return string(b)
	}
	return fmt.Sprint(v)
}
