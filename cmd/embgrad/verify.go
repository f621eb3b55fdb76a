package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/property"
)

func init() {
	commands["verify"] = command{"run the gradcheck and property suites over every built-in kernel", verify}
}

// verifyRow is one suite check's results for every kernel.
type verifyRow struct {
	check string            // "suite/check"
	errs  map[string]error  // by kernel name; nil = pass
	ran   map[string]bool   // the kernel ran this check
	na    map[string]string // why the check did not apply to the kernel
}

func verify(stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 0, "seed for the suites (unset: $EMBGRAD_SEED, else the fixed default)")
	short := fs.Bool("short", false, "fewer and smaller cases")
	match := fs.String("kernel", "", "only kernels whose name matches this regexp")
	ext := externalFlags(fs) // -exec, -lib, -timeout: verify_ext.go
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{2, fmt.Errorf("verify: %v", err)}
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Errorf("verify: unexpected arguments %q", fs.Args())}
	}
	// An explicit -seed (0 included) is the seed; without it the suites'
	// own rule applies ($EMBGRAD_SEED, else the default).
	seedSet := false
	fs.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	re, err := regexp.Compile(*match)
	if err != nil {
		return &exitError{2, fmt.Errorf("verify: -kernel: %v", err)}
	}
	cfg := suite.Config{Short: *short}
	if seedSet {
		cfg = cfg.WithSeed(*seed)
	}
	cfg, err = cfg.Resolve()
	if err != nil {
		return err
	}
	if ext.given() {
		return verifyExternal(stdout, stderr, cfg, ext)
	}
	var kernels []embgrad.Kernel
	for _, k := range registry.Kernels() {
		if re.MatchString(k.Name()) {
			kernels = append(kernels, k)
		}
	}
	var tied []embgrad.TiedKernel
	for _, k := range registry.Tied() {
		if re.MatchString(k.Name()) {
			tied = append(tied, k)
		}
	}
	var sparse []embgrad.SparseKernel
	for _, k := range registry.Sparse() {
		if re.MatchString(k.Name()) {
			sparse = append(sparse, k)
		}
	}
	var bags []embgrad.BagKernel
	for _, k := range registry.Bag() {
		if re.MatchString(k.Name()) {
			bags = append(bags, k)
		}
	}
	var half []registry.HalfKernel
	for _, k := range registry.Half() {
		if re.MatchString(k.Name()) {
			half = append(half, k)
		}
	}
	set := kernelSet{dense: kernels, tied: tied, sparse: sparse, bags: bags, half: half, steps: stepKernels(re)}
	if set.empty() {
		return &exitError{2, fmt.Errorf("verify: no kernel matches %q", *match)}
	}
	_, failed := verifyAll(stdout, cfg, set)
	if failed > 0 {
		return fmt.Errorf("verify: %d check(s) failed (seed %d; rerun with -seed %d)", failed, cfg.Seed, cfg.Seed)
	}
	return nil
}

// kernelSet is what verifyAll runs: the kernels of each form, one column
// each.
type kernelSet struct {
	dense  []embgrad.Kernel
	tied   []embgrad.TiedKernel
	sparse []embgrad.SparseKernel
	bags   []embgrad.BagKernel
	half   []registry.HalfKernel
	steps  []stepVerify // optimizer steps (verify_step.go)
}

func (s kernelSet) empty() bool {
	return len(s.dense)+len(s.tied)+len(s.sparse)+len(s.bags)+len(s.half)+len(s.steps) == 0
}

// builtins is every registered kernel of every form.
func builtins() kernelSet {
	return kernelSet{dense: registry.Kernels(), tied: registry.Tied(), sparse: registry.Sparse(), bags: registry.Bag(), half: registry.Half(), steps: stepKernels(everyKernel)}
}

// verifyAll checks the oracle, runs both suites over the kernels, prints the
// table and the failures, and returns the number of checks run and failed.
func verifyAll(w io.Writer, cfg suite.Config, set kernelSet) (ran, failed int) {
	kernels, tied, sparse, bags, half := set.dense, set.tied, set.sparse, set.bags, set.half
	fmt.Fprintf(w, "embgrad verify: seed %d, short=%v\n", cfg.Seed, cfg.Short)
	if err := gradcheck.CheckOracle(cfg); err != nil {
		fmt.Fprintf(w, "oracle finite-difference checks: FAIL\n%v\n", err)
		return 1, 1
	}
	fmt.Fprintln(w, "oracle finite-difference checks: ok")
	if len(bags) > 0 {
		if err := gradcheck.CheckBagOracle(cfg); err != nil {
			fmt.Fprintf(w, "bag oracle finite-difference checks: FAIL\n%v\n", err)
			return 1, 1
		}
		fmt.Fprintln(w, "bag oracle finite-difference checks: ok")
	}

	var names []string
	var rows []*verifyRow
	index := map[string]*verifyRow{}
	record := func(kernel, suiteName string, rs []suite.Result) {
		for _, r := range rs {
			key := suiteName + "/" + r.Check
			row := index[key]
			if row == nil {
				row = &verifyRow{check: key, errs: map[string]error{}, ran: map[string]bool{}, na: map[string]string{}}
				index[key] = row
				rows = append(rows, row)
			}
			row.ran[kernel] = true
			row.errs[kernel] = r.Err
			if r.NotApplicable != "" {
				row.na[kernel] = r.NotApplicable
				continue // neither passed nor failed
			}
			ran++
			if r.Err != nil {
				failed++
			}
		}
	}
	// Columns are grouped by form: one table per form, with the rows its
	// kernels ran (DESIGN.md: "a table per form").
	var forms []string
	cols := map[string][]string{}
	form := "dense"
	add := func(name string, suites map[string][]suite.Check) {
		names = append(names, name)
		if _, ok := cols[form]; !ok {
			forms = append(forms, form)
		}
		cols[form] = append(cols[form], name)
		for _, sn := range []string{"gradcheck", "property"} {
			record(name, sn, suite.Run(suites[sn], cfg))
		}
	}
	for _, k := range kernels {
		add(k.Name(), map[string][]suite.Check{"gradcheck": gradcheck.Checks(k), "property": property.Checks(k)})
	}
	// Tied kernels run the tied checks; their rows show "-" for the others.
	// A name already taken (a process serving both forms) gets its form.
	uniq := func(name, form string) string {
		if slices.Contains(names, name) {
			return name + " (" + form + ")"
		}
		return name
	}
	form = "tied"
	for _, k := range tied {
		add(uniq(k.Name(), "tied"), map[string][]suite.Check{"gradcheck": gradcheck.TiedChecks(k), "property": property.TiedChecks(k)})
	}
	// Sparse kernels likewise run the sparse checks only.
	form = "sparse"
	for _, k := range sparse {
		add(uniq(k.Name(), "sparse"), map[string][]suite.Check{"gradcheck": gradcheck.SparseChecks(k), "property": property.SparseChecks(k)})
	}
	form = "optimizer step"
	for _, k := range set.steps {
		add(k.name, k.suites)
	}

	// Bag kernels likewise run the bag checks only.
	form = "bag"
	for _, k := range bags {
		add(k.Name(), map[string][]suite.Check{"gradcheck": gradcheck.BagChecks(k), "property": property.BagChecks(k)})
	}

	// 16-bit kernels run the checks of both 16-bit forms.
	form = "16-bit"
	for _, k := range half {
		g := append(gradcheck.HalfChecks(k), gradcheck.Half16Checks(k)...)
		add(k.Name(), map[string][]suite.Check{"gradcheck": g, "property": property.HalfChecks(k)})
	}

	for _, f := range forms {
		if len(forms) > 1 {
			fmt.Fprintf(w, "\n%s form\n", f)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "check\t%s\n", strings.Join(cols[f], "\t"))
		for _, row := range rows {
			if !slices.ContainsFunc(cols[f], func(n string) bool { return row.ran[n] }) {
				continue
			}
			cells := make([]string, len(cols[f]))
			for i, n := range cols[f] {
				switch {
				case !row.ran[n]:
					cells[i] = "-"
				case row.na[n] != "":
					cells[i] = "n/a"
				case row.errs[n] != nil:
					cells[i] = "FAIL"
				default:
					cells[i] = "ok"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\n", row.check, strings.Join(cells, "\t"))
		}
		tw.Flush()
	}
	for _, row := range rows {
		for _, n := range names {
			if why := row.na[n]; why != "" {
				fmt.Fprintf(w, "n/a %s %s: %s\n", n, row.check, why)
			}
		}
	}
	for _, row := range rows {
		for _, n := range names {
			if err := row.errs[n]; err != nil {
				fmt.Fprintf(w, "\nFAIL %s %s:\n%v\n", n, row.check, err)
			}
		}
	}
	fmt.Fprintf(w, "\n%d passed, %d failed\n", ran-failed, failed)
	return ran, failed
}
