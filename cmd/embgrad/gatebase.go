package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/embgrad/embgrad/bench"
	"github.com/embgrad/embgrad/cmd/embgrad/internal/benchrun"
	"github.com/embgrad/embgrad/gate"
)

// gateBase is the -base form: build both benchmark binaries, run them
// interleaved, compare, re-run suspects. It returns extra summary lines
// (the revisions and the kept result files).
func gateBase(stderr io.Writer, f *gateFlags) (rep *gate.Report, extra []string, err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	top, err := gateGit(ctx, "", "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, nil, fmt.Errorf("-base needs a git checkout: %v", err)
	}
	baseSHA, err := gateGit(ctx, top, "rev-parse", "--verify", "--end-of-options", f.base+"^{commit}")
	if err != nil {
		return nil, nil, fmt.Errorf("-base %s: not a commit: %v", f.base, err)
	}
	headSHA, _ := gateGit(ctx, top, "rev-parse", "HEAD")
	dirty, _ := gateGit(ctx, top, "status", "--porcelain", "--untracked-files=no")
	newDesc := "working tree at " + gateShort(headSHA)
	if dirty != "" {
		newDesc += " + uncommitted changes"
	}
	// The module (and its bench package) may sit below the repository root.
	modDir, err := gateModDir(ctx)
	if err != nil {
		return nil, nil, err
	}
	rel, err := filepath.Rel(top, modDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, nil, fmt.Errorf("module %s is not inside the git checkout %s", modDir, top)
	}

	outDir := f.out
	if outDir == "" {
		if outDir, err = os.MkdirTemp("", "embgrad-gate-results-"); err != nil {
			return nil, nil, err
		}
	} else if err = os.MkdirAll(outDir, 0o755); err != nil {
		return nil, nil, err
	}
	oldTxt, newTxt := filepath.Join(outDir, "old.txt"), filepath.Join(outDir, "new.txt")
	extra = []string{
		fmt.Sprintf("OLD = `%s` (%s), NEW = %s", f.base, gateShort(baseSHA), newDesc),
		fmt.Sprintf("runs: `-bench %s`, %d interleaved runs per side (OLD NEW, NEW OLD, …)%s", f.bench, f.count, gateBenchtimeDesc(f.benchtime)),
	}

	tmp, err := os.MkdirTemp("", "embgrad-gate-")
	if err != nil {
		return nil, extra, err
	}
	defer os.RemoveAll(tmp)
	wt := filepath.Join(tmp, "base")
	fmt.Fprintf(stderr, "gate: worktree of %s (%s) in %s\n", f.base, gateShort(baseSHA), wt)
	if _, err := gateGit(ctx, top, "worktree", "add", "--detach", "--quiet", wt, baseSHA); err != nil {
		return nil, extra, fmt.Errorf("git worktree add: %v", err)
	}
	defer func() {
		// Not ctx: clean up even after an interrupt.
		if _, rerr := gateGit(context.Background(), top, "worktree", "remove", "--force", wt); rerr != nil {
			fmt.Fprintf(stderr, "gate: warning: git worktree remove %s: %v\n", wt, rerr)
		}
		gateGit(context.Background(), top, "worktree", "prune")
	}()

	sides := [2]benchrun.Side{
		{Label: "OLD", Desc: f.base + " " + gateShort(baseSHA), Bin: benchrun.Binary{Path: filepath.Join(tmp, "old.test"), Dir: filepath.Join(wt, rel, "bench")}},
		{Label: "NEW", Desc: newDesc, Bin: benchrun.Binary{Path: filepath.Join(tmp, "new.test"), Dir: filepath.Join(modDir, "bench")}},
	}
	for i, s := range sides {
		if st, err := os.Stat(s.Bin.Dir); err != nil || !st.IsDir() {
			return nil, extra, fmt.Errorf("%s (%s) has no benchmark package %s", s.Label, s.Desc, filepath.Join(rel, "bench"))
		}
		fmt.Fprintf(stderr, "gate: building %s benchmark binary (%s)\n", s.Label, s.Desc)
		t0 := time.Now()
		if err := benchrun.Build(ctx, s.Bin.Dir, s.Bin.Path); err != nil {
			return nil, extra, fmt.Errorf("building the %s benchmarks (%s): %v", s.Label, s.Desc, err)
		}
		fmt.Fprintf(stderr, "gate: built %s in %v\n", s.Label, time.Since(t0).Round(time.Millisecond))
		sides[i].Config = []benchrun.Config{{Key: "gate-side", Value: strings.ToLower(s.Label)}, {Key: "commit", Value: []string{baseSHA, headSHA}[i]}, {Key: "gate-rev", Value: s.Desc}}
	}
	run := func(pattern, oldTxt, newTxt, what string, count int) error {
		args := []string{"-test.run=^$", "-test.bench=" + pattern, "-test.count=1", "-test.benchmem"}
		if f.benchtime != "" {
			args = append(args, "-test.benchtime="+f.benchtime)
		}
		s := sides
		for i := range s {
			s[i].Config = append(slices.Clip(s[i].Config), benchrun.Config{Key: "gate-bench", Value: pattern})
		}
		return benchrun.ABBA(ctx, stderr, what, s, append(args, f.testflags...), count, [2]string{oldTxt, newTxt})
	}

	if err := run(f.bench, oldTxt, newTxt, "first round", f.count); err != nil {
		return nil, extra, err
	}
	extra = append(extra, fmt.Sprintf("result files (kept): `%s`, `%s`", oldTxt, newTxt))
	fmt.Fprintf(stderr, "gate: results in %s and %s\n", oldTxt, newTxt)

	// -confirm seq: the first look only screens (Options.Screen); the
	// extension decides.
	first := f.opt
	if f.rerun && f.confirm == "seq" {
		first.Screen = f.screen
	}
	rep, err = gateFiles(oldTxt, newTxt, first)
	if err != nil || len(rep.Suspects()) == 0 || !f.rerun {
		return rep, extra, err
	}

	// Re-run (extend) the suspects with fresh interleaved samples before
	// failing.
	suspects := rep.Suspects()
	pat := bench.ExactPattern(suspects)
	ext := f.extend
	if ext == 0 {
		ext = 4 * f.count // the calibration's choice (results/GATE.md)
	}
	fmt.Fprintf(stderr, "gate: %d suspect benchmark(s); re-running them %d times per side to decide\n", len(suspects), ext)
	oldRe, newRe := filepath.Join(outDir, "old-rerun.txt"), filepath.Join(outDir, "new-rerun.txt")
	if err := run(pat, oldRe, newRe, "re-run", ext); err != nil {
		return nil, extra, err
	}
	extra = append(extra, fmt.Sprintf("re-run files (kept): `%s`, `%s`", oldRe, newRe))
	second := f.opt
	if f.confirm == "seq" {
		// Holm over the first look's whole family: which benchmarks were
		// extended cannot raise the false-alarm rate (Options.Family).
		second.Family = rep.Tests
	}
	if f.confirm == "pooled" || f.confirm == "seq" {
		// One comparison on twice the samples, not a second test ANDed
		// with the first: the calibration (results/GATE.md) measured the
		// AND losing power with no gain in false alarms.
		oldP, newP := filepath.Join(outDir, "old-pooled.txt"), filepath.Join(outDir, "new-pooled.txt")
		for _, pp := range [][3]string{{oldTxt, oldRe, oldP}, {newTxt, newRe, newP}} {
			if err := gatePool(pp[0], pp[1], pp[2], suspects); err != nil {
				return nil, extra, err
			}
		}
		extra = append(extra, fmt.Sprintf("suspects' first-run and re-run samples pooled (kept): `%s`, `%s`", oldP, newP))
		oldRe, newRe = oldP, newP
	}
	rerun, err := gateFiles(oldRe, newRe, second)
	if err != nil {
		return nil, extra, fmt.Errorf("re-run of suspects: %w", err)
	}
	rep.Confirm(rerun)
	return rep, extra, nil
}

func gateGit(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

func gateModDir(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("-base must run inside the Go module")
	}
	return filepath.Dir(mod), nil
}

func gateShort(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func gateBenchtimeDesc(bt string) string {
	if bt == "" {
		return ""
	}
	return ", `-benchtime " + bt + "`"
}
