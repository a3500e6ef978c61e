package ghapi

import (
	"encoding/json"
	"fmt"
)

// Token is a GitHub token. It redacts itself in every fmt verb and in JSON, so a configuration
// holding one can be printed or logged without leaking it; Value is the only way to read it.
type Token string

// Value returns the token itself.
func (t Token) Value() string { return string(t) }

func (t Token) String() string {
	if t == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the token.
func (t Token) GoString() string { return `ghapi.Token("` + t.String() + `")` }

// Format covers %s, %v, %q, %x and friends.
func (t Token) Format(f fmt.State, _ rune) { fmt.Fprint(f, t.String()) }

// MarshalJSON keeps encoding/json from printing the token.
func (t Token) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }
