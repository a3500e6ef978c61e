package apispec_test

import (
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// TestMain prints the package's conformance total (the replays and the webhook test run the
// emulator through emulatortest.Start) after the tests.
func TestMain(m *testing.M) { emulatortest.Main(m) }
