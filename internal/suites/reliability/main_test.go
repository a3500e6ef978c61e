package reliability

import (
	"flag"
	"os"
	"strconv"
	"testing"

	"github.com/deployment-action/deployment-action/internal/workbench/emulator/emulatortest"
)

// shortParallel is how many tests of this package run at once in the fast tier (-short).
//
// They wait far more than they compute: emulated latency, retry pauses, and post's pauses while
// it looks for a deployment whose create was refused or lost. -parallel's default (GOMAXPROCS,
// 2 on the project's machine) would make those waits queue up. The full tier keeps the default,
// so the timing-sensitive signal tests do not compete with more CPU-bound jobs under -race. An
// explicit -parallel wins in both.
const shortParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if testing.Short() && !explicit {
		if err := flag.Set("test.parallel", strconv.Itoa(shortParallel)); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	emulatortest.PrintTotals(os.Stdout) // go test -v shows the package's conformance total
	os.Exit(code)
}
