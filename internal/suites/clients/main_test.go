package clients

import (
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }
