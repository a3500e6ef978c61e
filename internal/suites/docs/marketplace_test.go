package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/deployment-action/deployment-action/internal/testkit"
)

// TestMarketplaceListing: the fields GitHub Marketplace publishes from action.yml are ones it
// accepts. Listing names are unique across the Marketplace, and "Deployment Action" is another
// action's listing; the description is cut at 125 characters; branding takes a Feather icon
// and one of nine colours.
func TestMarketplaceListing(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(testkit.Root(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
		Branding    struct {
			Icon  string `yaml:"icon"`
			Color string `yaml:"color"`
		} `yaml:"branding"`
	}
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if a.Name == "" || strings.EqualFold(a.Name, "Deployment Action") {
		t.Errorf("name %q: the Marketplace needs a unique name, and \"Deployment Action\" is taken", a.Name)
	}
	if n := len([]rune(a.Description)); n == 0 || n > 125 {
		t.Errorf("description is %d characters; the Marketplace shows at most 125", n)
	}
	colors := map[string]bool{"white": true, "black": true, "yellow": true, "blue": true, "green": true, "orange": true, "red": true, "purple": true, "gray-dark": true}
	if !colors[a.Branding.Color] {
		t.Errorf("branding color %q is not one GitHub accepts", a.Branding.Color)
	}
	if a.Branding.Icon == "" {
		t.Error("branding has no icon")
	}
}
