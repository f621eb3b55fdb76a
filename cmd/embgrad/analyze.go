package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/embgrad/embgrad/cmd/embgrad/internal/analyze"
)

func init() {
	commands["analyze"] = command{"gradient health on real token streams (norm vs frequency, Gini, scale_grad_by_freq, how rows move) into results/analyze", analyzeCmd}
}

const analyzeUsage = `usage: embgrad analyze [flags]

Measures, on the committed BPE-tokenized text and the Zipf stream (and on
-ids FILE, a user's token ids: decimal integers separated by whitespace,
'#' lines ignored), per-token occurrence counts, the share of rows touched
per batch, the Gini coefficient of the counts, each row's gradient norm
against its frequency from the tied model's cross-entropy (with and
without scale_grad_by_freq, log-log fits), the global norm and clipping,
and how far each row moves in a few optimizer steps. Writes DIR/ANALYZE.md
and SVG plots; progress on stderr. A bad -ids file is an error naming the
file and line (exit 2).

Flags:
`

func analyzeCmd(stdout, stderr io.Writer, args []string) error {
	c := analyze.Defaults()
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, analyzeUsage); fs.PrintDefaults() }
	fs.StringVar(&c.Dir, "dir", c.Dir, "output `directory`")
	streams := fs.String("streams", strings.Join(c.Streams, ","), "built-in streams, comma-separated (text, zipf; empty for none)")
	fs.StringVar(&c.IDsFile, "ids", "", "a `file` of token ids to analyse too (stream \"file\")")
	fs.IntVar(&c.FileV, "V", 0, "vocabulary size of the -ids file (0: its largest id + 1)")
	fs.IntVar(&c.D, "D", c.D, "model width")
	fs.IntVar(&c.GradTokens, "tokens", c.GradTokens, "positions in the gradient's batch")
	fs.IntVar(&c.Batch, "batch", c.Batch, "positions per optimizer step")
	fs.IntVar(&c.Steps, "steps", c.Steps, "optimizer steps")
	fs.IntVar(&c.SeqLen, "seq", c.SeqLen, "positions per sequence")
	fs.Float64Var(&c.LR, "lr", c.LR, "SGD learning rate")
	fs.Float64Var(&c.AdagradLR, "adagrad-lr", c.AdagradLR, "row-wise Adagrad learning rate")
	fs.Float64Var(&c.MaxNorm, "max-norm", c.MaxNorm, "clip_grad_norm_ max_norm for the clipping table")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the model's initial tables")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{2, err}
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Errorf("analyze: unexpected arguments %q", fs.Args())}
	}
	c.Streams = nil
	for _, s := range strings.Split(*streams, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.Streams = append(c.Streams, s)
		}
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = a
		if a == "" || strings.ContainsAny(a, " \t'\"$\\*?;&|<>()") {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	c.Command = strings.TrimSpace("go run ./cmd/embgrad analyze " + strings.Join(quoted, " "))
	c.Progress = stderr
	path, err := analyze.Run(c)
	if err != nil {
		return &exitError{2, fmt.Errorf("analyze: %w", err)}
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}
