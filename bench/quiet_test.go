package bench

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

func TestWarmUp(t *testing.T) {
	calls := 0
	n, err := WarmUp(3, 0, func() error { calls++; return nil })
	if err != nil || n != 3 || calls != 3 {
		t.Errorf("WarmUp(3, 0) = %d, %v after %d calls; want 3 calls", n, err, calls)
	}
	// It stops at the first error and counts only the calls that succeeded.
	bad := errors.New("kernel failed")
	calls = 0
	n, err = WarmUp(5, 0, func() error {
		calls++
		if calls == 2 {
			return bad
		}
		return nil
	})
	if !errors.Is(err, bad) || n != 1 || calls != 2 {
		t.Errorf("WarmUp with an error on call 2 = %d, %v after %d calls; want 1, %v after 2", n, err, calls, bad)
	}
	// minCalls 0 and minTime 0: nothing runs.
	if n, err := WarmUp(0, 0, func() error { t.Error("called"); return nil }); n != 0 || err != nil {
		t.Errorf("WarmUp(0, 0) = %d, %v", n, err)
	}
}

// vmFlags returns the VmFlags of the mapping of /proc/self/smaps that
// holds address a.
func vmFlags(t *testing.T, a uintptr) []string {
	t.Helper()
	return strings.Fields(smapsField(t, a, "VmFlags:"))
}

// smapsField returns the value of a field of the mapping of
// /proc/self/smaps that holds address a.
func smapsField(t *testing.T, a uintptr, field string) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := mappingRange(line); ok {
			in = lo <= a && a < hi
			continue
		}
		if in && strings.HasPrefix(line, field) {
			return strings.TrimSpace(strings.TrimPrefix(line, field))
		}
	}
	t.Fatalf("no mapping in /proc/self/smaps holds %#x with %s", a, field)
	return ""
}

// mappingRange parses a mapping's first line, "lo-hi perms offset ...".
func mappingRange(line string) (lo, hi uintptr, ok bool) {
	f := strings.Fields(line)
	if len(f) < 5 || strings.HasSuffix(f[0], ":") {
		return 0, 0, false
	}
	l, h, found := strings.Cut(f[0], "-")
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(l, 16, 64)
	b, err2 := strconv.ParseUint(h, 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(a), uintptr(b), true
}

func TestBigHugePages(t *testing.T) {
	mode, err := thpMode()
	if runtime.GOOS != "linux" || err != nil || mode == "never" {
		// Asking must fail, not silently give 4 KB pages.
		if _, _, err := Big[float32](1<<20, true); !errors.Is(err, errNoHuge) {
			t.Fatalf("Big(huge) without transparent huge pages: err = %v, want %v", err, errNoHuge)
		}
		t.Skipf("no transparent huge pages here (%q, %v)", mode, err)
	}
	const n = 3<<20 + 5 // 12 MB and a bit: not a multiple of 2 MB
	s, free, err := Big[float32](n, true)
	if err != nil {
		t.Fatal(err)
	}
	defer free()
	if len(s) != n {
		t.Fatalf("len = %d, want %d", len(s), n)
	}
	a := uintptr(unsafe.Pointer(&s[0]))
	if a%hugePage != 0 {
		t.Errorf("buffer at %#x: not on a 2 MB boundary", a)
	}
	for i, x := range s {
		if x != 0 {
			t.Fatalf("s[%d] = %v, want 0", i, x)
		}
	}
	for i := range s {
		s[i] = float32(i)
	}
	for _, at := range []uintptr{a, uintptr(unsafe.Pointer(&s[n-1]))} {
		if fl := vmFlags(t, at); !contains(fl, "hg") {
			t.Errorf("the mapping at %#x is not advised MADV_HUGEPAGE: VmFlags %v", at, fl)
		}
	}
	t.Logf("THP mode %s; AnonHugePages %s: up to the kernel (free 2 MB pages), not asserted", mode, smapsField(t, a, "AnonHugePages:"))

	// The deliberately plain case: without huge, an ordinary Go
	// allocation, which nothing advises; the check above must tell the
	// two apart.
	p, freeP, err := Big[float32](n, false)
	if err != nil {
		t.Fatal(err)
	}
	defer freeP()
	clear(p)
	if fl := vmFlags(t, uintptr(unsafe.Pointer(&p[0]))); contains(fl, "hg") {
		t.Errorf("a plain Go allocation's mapping is advised MADV_HUGEPAGE (VmFlags %v): the check cannot tell", fl)
	}
	runtime.KeepAlive(p)
}

func TestBigBadSize(t *testing.T) {
	for _, huge := range []bool{false, true} {
		if _, _, err := Big[float32](-1, huge); err == nil || !strings.Contains(err.Error(), "-1") {
			t.Errorf("Big(-1, %v): err = %v, want one naming n = -1", huge, err)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestHoldCPULatency(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	// A plain file stands in for /dev/cpu_dma_latency: the request is the
	// 4-byte little-endian value, written once, the file kept open.
	path := t.TempDir() + "/lat"
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	release, err := HoldCPULatency(path, 0x01020304)
	if err != nil {
		t.Fatal(err)
	}
	release()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{4, 3, 2, 1}; string(got) != string(want) {
		t.Errorf("wrote % x, want % x", got, want)
	}
	// A path that cannot be opened is an error naming it and the flag.
	bad := t.TempDir() + "/missing/lat"
	if _, err := HoldCPULatency(bad, 0); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), FlagCPULatency) {
		t.Errorf("HoldCPULatency(%s): err = %v, want one naming the path and -%s", bad, err, FlagCPULatency)
	}
}
