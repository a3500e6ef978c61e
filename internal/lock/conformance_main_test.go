package lock_test

import (
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// TestMain prints the package's conformance total after the tests (go test -v shows it).
func TestMain(m *testing.M) { emulatortest.Main(m) }
