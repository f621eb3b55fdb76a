// Command mktokens makes the real token streams of the benchmarks' dist=text:
// real English text tokenized with real BPE vocabularies.
//
// The text is the Go language specification and the Go memory model, the
// HTML documents under $(go env GOROOT)/doc (BSD-licensed, on every machine
// with Go), stripped of markup: comments, tags and entities removed,
// whitespace within a line collapsed. Code examples stay, as in a web crawl.
// The text is tokenized with tiktoken's r50k_base (GPT-2's vocabulary, 50257
// ids) and cl100k_base (100277 ids; Llama 3's vocabulary extends it) and
// written to bench/testdata as little-endian int32 ids, with text.txt
// recording the source, the Go version and the counts.
//
// Run it from the repository root:
//
//	go run ./bench/internal/mktokens
//
// The committed files are the benchmarks' input; a different Go release
// ships a different spec, so re-running may change them.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"html"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/tiktoken-go/tokenizer"
)

// sources are read in this order and joined by a blank line.
var sources = []string{"doc/go_spec.html", "doc/go_mem.html"}

// encodings maps each vocabulary to the file its ids go to.
var encodings = []struct {
	enc  tokenizer.Encoding
	file string
}{
	{tokenizer.R50kBase, "text_r50k_base.bin"},
	{tokenizer.Cl100kBase, "text_cl100k_base.bin"},
}

func main() {
	out := flag.String("out", "bench/testdata", "output directory")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("mktokens: ")

	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		log.Fatalf("go env GOROOT: %v", err)
	}
	var text strings.Builder
	for i, src := range sources {
		b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), src))
		if err != nil {
			log.Fatal(err)
		}
		if i > 0 {
			text.WriteString("\n\n")
		}
		text.WriteString(stripHTML(string(b)))
	}
	s := text.String()

	var info bytes.Buffer
	fmt.Fprintf(&info, "source: %s from %s (markup stripped by bench/internal/mktokens)\n", strings.Join(sources, ", "), runtime.Version())
	fmt.Fprintf(&info, "text: %d bytes, sha256 %x\n", len(s), sha256.Sum256([]byte(s)))
	for _, e := range encodings {
		codec, err := tokenizer.Get(e.enc)
		if err != nil {
			log.Fatal(err)
		}
		ids, _, err := codec.Encode(s)
		if err != nil {
			log.Fatal(err)
		}
		buf := make([]byte, 4*len(ids))
		var maxID uint
		for i, id := range ids {
			binary.LittleEndian.PutUint32(buf[4*i:], uint32(id))
			maxID = max(maxID, id)
		}
		if err := os.WriteFile(filepath.Join(*out, e.file), buf, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(&info, "%s: %s, %d tokens, max id %d\n", e.file, e.enc, len(ids), maxID)
	}
	if err := os.WriteFile(filepath.Join(*out, "text.txt"), info.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	os.Stdout.Write(info.Bytes())
}

var (
	comment  = regexp.MustCompile(`(?s)<!--.*?-->`)
	tag      = regexp.MustCompile(`(?s)<[^>]*>`)
	spaces   = regexp.MustCompile(`[ \t\r]+`)
	newlines = regexp.MustCompile(`\n(?:[ \t]*\n)+`)
)

// stripHTML turns an HTML document into the text a reader sees.
func stripHTML(s string) string {
	s = comment.ReplaceAllString(s, "")
	s = tag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = spaces.ReplaceAllString(s, " ")
	s = newlines.ReplaceAllString(s, "\n\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n")) + "\n"
}
