package ghapi

import (
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0s", 40 * time.Second: "40s", 59600 * time.Millisecond: "60s", 12*time.Minute + 20*time.Second: "12m",
		time.Hour: "1h", 65 * time.Minute: "1h5m", -time.Second: "0s",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
