package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/embgrad/embgrad/cmd/embgrad/internal/report"
)

func init() {
	commands["report"] = command{
		summary: "tables and plots of results files into results/REPORT.md",
		run:     reportCmd,
	}
}

const reportUsage = `usage: embgrad report [-dir DIR] [files...]

Reads benchfmt results (default results/baseline.txt and results/peers*.txt),
and writes DIR/REPORT.md with benchstat-style tables (median ± 95% confidence
interval per kernel, pivoted by impl, per shape, distribution and mode, with
the fraction of the memory roofline measured by BenchmarkMemory) and SVG
plots beside it. Files run beside CPU hogs (embgrad bench -hog N: config
line "hog: N") are kept apart and shown beside the quiet ones, per parallel
kernel. DIR defaults to the first file's directory. Malformed input,
values no measurement has, and a file named twice are refused (exit 2).

Flags:
`

func reportCmd(stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage); fs.PrintDefaults() }
	dir := fs.String("dir", "", "output `directory` (default: the first file's)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{2, err}
	}
	files := fs.Args()
	if len(files) == 0 {
		// The committed baseline and any peers' results beside it.
		peers, _ := filepath.Glob(filepath.Join("results", "peers*.txt"))
		files = append([]string{filepath.Join("results", "baseline.txt")}, peers...)
	}
	_, err := runReport(stdout, files, *dir)
	return err
}

// runReport reads the files and writes the report and its plots into dir
// ("" is the first file's directory), printing and returning the report's
// path. Bad input is exit status 2.
func runReport(stdout io.Writer, files []string, dir string) (string, error) {
	if dir == "" {
		dir = filepath.Dir(files[0])
	}
	d, err := report.Read(files)
	if err != nil {
		return "", &exitError{2, fmt.Errorf("report: %w", err)}
	}
	path, n, err := d.Write(dir, files)
	if err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s and %d plots\n", path, n)
	return path, nil
}
