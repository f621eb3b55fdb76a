package gate

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DefaultThreshold is the relative change (5 %) a significant difference
// must exceed before the gate calls it a regression (or an improvement).
const DefaultThreshold = 0.05

// Thresholds is the relative threshold: a default plus per-benchmark
// overrides. It implements flag.Value so that one repeatable flag sets both:
//
//	-threshold 5                       default 5 %
//	-threshold 7.5%                    default 7.5 %
//	-threshold 'dist=same=10'          10 % for benchmarks matching dist=same
//	-threshold '^BenchmarkTied/=20'    20 % for the tied benchmarks
//
// An override is REGEXP=PERCENT, split at the last '=' (benchmark names are
// full of '='); REGEXP is unanchored and matched against the full benchmark
// name as printed by go test (for example
// BenchmarkBackward/impl=scatter/V=50257/D=768/N=8192/dist=zipf/mode=accumulate-2).
// When several overrides match, the last one given wins.
type Thresholds struct {
	Default   float64 // a fraction: 0.05 is 5 %
	Overrides []Override
	set       bool
}

// Override is one REGEXP=PERCENT entry.
type Override struct {
	Pattern   *regexp.Regexp
	Threshold float64 // a fraction
}

// For returns the threshold (a fraction) for the benchmark with this full name.
func (t *Thresholds) For(name string) float64 {
	thr := t.Default
	if !t.set && thr == 0 {
		thr = DefaultThreshold
	}
	for _, o := range t.Overrides {
		if o.Pattern.MatchString(name) {
			thr = o.Threshold
		}
	}
	return thr
}

// String formats t in the flag's own syntax.
func (t *Thresholds) String() string {
	if t == nil {
		return ""
	}
	d := t.Default
	if !t.set && d == 0 {
		d = DefaultThreshold
	}
	parts := []string{fmtPct(d)}
	for _, o := range t.Overrides {
		parts = append(parts, o.Pattern.String()+"="+fmtPct(o.Threshold))
	}
	return strings.Join(parts, ", ")
}

// Set parses one -threshold value: PERCENT or REGEXP=PERCENT.
func (t *Thresholds) Set(s string) error {
	re, pct := "", s
	if i := strings.LastIndexByte(s, '='); i >= 0 {
		re, pct = s[:i], s[i+1:]
		if re == "" {
			return fmt.Errorf("threshold %q: empty regexp before '='", s)
		}
	}
	v, err := parsePct(pct)
	if err != nil {
		return fmt.Errorf("threshold %q: %v", s, err)
	}
	if re == "" {
		t.Default, t.set = v, true
		return nil
	}
	rx, err := regexp.Compile(re)
	if err != nil {
		return fmt.Errorf("threshold %q: %v", s, err)
	}
	t.Overrides = append(t.Overrides, Override{rx, v})
	return nil
}

func parsePct(s string) (float64, error) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v != v || v > 1e6 {
		return 0, fmt.Errorf("want a percentage such as 5 or 7.5%%, got %q", s)
	}
	return v / 100, nil
}

func fmtPct(f float64) string {
	return strconv.FormatFloat(f*100, 'f', -1, 64) + "%"
}
