package deploy

import "testing"

// TestEnvironmentNamesMatchThemselves: only * and ? are wildcards; any exact name, brackets and
// backslashes included, matches itself (GitHub's names ignore case).
func TestEnvironmentNamesMatchThemselves(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"preview [eu]", "preview [eu]", true},
		{"Preview [EU]", "preview [eu]", true},
		{"preview [eu]", "preview e", false},
		{`ops\prod`, `ops\prod`, true},
		{"preview [*]", "preview [eu]", true},
		{"preview [*]", "preview eu", false},
		{"pr-*", "pr-12", true},
		{"pr-?", "pr-12", false},
		{"preview/*", "preview/a/b", false},
		{"staging", "production", false},
	} {
		if got := matchEnvironment(tc.pattern, tc.name); got != tc.want {
			t.Errorf("matchEnvironment(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
	if isPattern("preview [eu]") {
		t.Error("a name with brackets is read as a pattern: it would be listed without GitHub's environment filter")
	}
}
