// Checks what parleyd's explorer serves with Go's standard library and
// golang.org/x/mod, independently of libparley:
//
//	explorer_check atom FILE                 an Atom feed valid per RFC 4287
//	explorer_check proof PROOF RECORD VKEY   a c2sp.org/tlog-proof of RECORD under a checkpoint
//	                                         signed by VKEY (x/mod note and tlog)
//	explorer_check metrics FILE              the Prometheus text format 0.0.4, every sample in
//	                                         a family with HELP and TYPE, histograms consistent
//
// Run in GOPATH mode (GO111MODULE=off GOPATH=/usr/share/gocode) with Debian's
// golang-golang-x-mod-dev. Prints "ok: ..." and exits 0, or names the first
// fault and exits 1.
package main

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "explorer_check: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

const atomNS = "http://www.w3.org/2005/Atom"

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomPerson struct {
	Name []string `xml:"http://www.w3.org/2005/Atom name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
	Type string `xml:"type,attr"`
}

type atomEntry struct {
	ID        []string     `xml:"http://www.w3.org/2005/Atom id"`
	Title     []atomText   `xml:"http://www.w3.org/2005/Atom title"`
	Updated   []string     `xml:"http://www.w3.org/2005/Atom updated"`
	Published []string     `xml:"http://www.w3.org/2005/Atom published"`
	Author    []atomPerson `xml:"http://www.w3.org/2005/Atom author"`
	Link      []atomLink   `xml:"http://www.w3.org/2005/Atom link"`
	Content   []atomText   `xml:"http://www.w3.org/2005/Atom content"`
}

type atomFeed struct {
	XMLName xml.Name     `xml:"http://www.w3.org/2005/Atom feed"`
	ID      []string     `xml:"http://www.w3.org/2005/Atom id"`
	Title   []atomText   `xml:"http://www.w3.org/2005/Atom title"`
	Updated []string     `xml:"http://www.w3.org/2005/Atom updated"`
	Author  []atomPerson `xml:"http://www.w3.org/2005/Atom author"`
	Link    []atomLink   `xml:"http://www.w3.org/2005/Atom link"`
	Entry   []atomEntry  `xml:"http://www.w3.org/2005/Atom entry"`
}

// An atom:id is an absolute IRI (RFC 4287 §4.2.6); here a urn:uuid or tag: URI.
func checkID(what, id string) {
	u, err := url.Parse(id)
	if err != nil || !u.IsAbs() {
		fail("%s: id %q is not an absolute IRI", what, id)
	}
	uuid := regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !uuid.MatchString(id) && !strings.HasPrefix(id, "tag:") {
		fail("%s: id %q is neither a urn:uuid nor a tag: URI", what, id)
	}
}

// A Date construct is an RFC 3339 date-time (RFC 4287 §3.3).
func checkDate(what, s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		fail("%s: %q is not an RFC 3339 date-time", what, s)
	}
	return t
}

func checkText(what string, t atomText) {
	switch t.Type {
	case "", "text", "html", "xhtml":
	default:
		fail("%s: type %q", what, t.Type)
	}
}

func one(what string, n int) {
	if n != 1 {
		fail("%s: %d elements, RFC 4287 requires exactly one", what, n)
	}
}

func checkAtom(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	// Well-formed XML first, token by token (the decoder rejects bad nesting and entities).
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail("not well-formed XML: %v", err)
		}
	}
	var f atomFeed
	if err := xml.Unmarshal(b, &f); err != nil {
		fail("not an Atom feed: %v", err)
	}
	if f.XMLName.Space != atomNS {
		fail("root element is not in the Atom namespace")
	}
	one("feed id", len(f.ID))
	checkID("feed", f.ID[0])
	one("feed title", len(f.Title))
	checkText("feed title", f.Title[0])
	one("feed updated", len(f.Updated))
	checkDate("feed updated", f.Updated[0])
	self := false
	for _, l := range f.Link {
		if l.Href == "" {
			fail("feed link without href")
		}
		self = self || l.Rel == "self"
	}
	if !self {
		fail("feed has no rel=self link (RFC 4287 §4.1.1 recommends it)")
	}
	ids := map[string]bool{}
	for i, e := range f.Entry {
		what := fmt.Sprintf("entry %d", i)
		one(what+" id", len(e.ID))
		checkID(what, e.ID[0])
		if ids[e.ID[0]] {
			fail("%s: id %s twice", what, e.ID[0])
		}
		ids[e.ID[0]] = true
		one(what+" title", len(e.Title))
		checkText(what+" title", e.Title[0])
		one(what+" updated", len(e.Updated))
		checkDate(what+" updated", e.Updated[0])
		if len(e.Published) > 1 {
			fail("%s: more than one published", what)
		}
		// §4.1.1: a feed without an author needs one in every entry.
		if len(e.Author) == 0 && len(f.Author) == 0 {
			fail("%s: no author in the entry nor the feed", what)
		}
		for _, a := range append(e.Author, f.Author...) {
			one(what+" author name", len(a.Name))
		}
		// §4.1.1.1: an entry with no content has an alternate link.
		if len(e.Content) > 1 {
			fail("%s: more than one content", what)
		}
		alt := false
		for _, l := range e.Link {
			alt = alt || l.Rel == "alternate" || l.Rel == ""
		}
		if len(e.Content) == 0 && !alt {
			fail("%s: neither content nor an alternate link", what)
		}
		for _, c := range e.Content {
			checkText(what+" content", c)
		}
	}
	fmt.Printf("ok: atom feed with %d entries\n", len(f.Entry))
}

// parseTlogProof reads a c2sp.org/tlog-proof: a header line, an optional
// extra line, the index, the proof hashes, a blank line, the checkpoint.
func parseTlogProof(b []byte) (int64, tlog.RecordProof, []byte) {
	i := bytes.Index(b, []byte("\n\n"))
	if i < 0 {
		fail("proof: no blank line before the checkpoint")
	}
	head, cp := b[:i], b[i+2:]
	lines := strings.Split(string(head), "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" {
		fail("proof: first line %q", lines[0])
	}
	lines = lines[1:]
	if len(lines) > 0 && strings.HasPrefix(lines[0], "extra ") {
		lines = lines[1:]
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "index ") {
		fail("proof: no index line")
	}
	index, err := strconv.ParseInt(strings.TrimPrefix(lines[0], "index "), 10, 64)
	if err != nil {
		fail("proof: bad index line")
	}
	var proof tlog.RecordProof
	for _, line := range lines[1:] {
		h, err := tlog.ParseHash(line)
		if err != nil {
			fail("proof: hash line %q", line)
		}
		proof = append(proof, h)
	}
	return index, proof, cp
}

func checkProof(proofPath, recordPath, vkey string) {
	pb, err := os.ReadFile(proofPath)
	if err != nil {
		fail("%v", err)
	}
	rec, err := os.ReadFile(recordPath)
	if err != nil {
		fail("%v", err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		fail("log key: %v", err)
	}
	index, proof, cp := parseTlogProof(pb)
	n, err := note.Open(cp, note.VerifierList(v))
	if err != nil {
		fail("checkpoint does not open with the log key: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != v.Name() {
		fail("checkpoint text: origin %q", lines[0])
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size %q", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint root %q", lines[2])
	}
	if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(rec)); err != nil {
		fail("record %d is not in the tree of size %d: %v", index, size, err)
	}
	if tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(append(rec, 'x'))) == nil {
		fail("the proof passes for another entry")
	}
	fmt.Printf("ok: entry %d is in %s at size %d (x/mod)\n", index, v.Name(), size)
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)\})? (\S+)$`)
)

// checkMetrics parses the text format 0.0.4 and prints "name type" for each family.
func checkMetrics(path string) {
	f, err := os.Open(path)
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	types := map[string]string{}
	helps := map[string]bool{}
	buckets := map[string][]float64{}
	counts := map[string]float64{}
	sc := bufio.NewScanner(f)
	ln := 0
	for sc.Scan() {
		ln++
		line := sc.Text()
		if strings.HasPrefix(line, "# HELP ") {
			fs := strings.SplitN(line[7:], " ", 2)
			if !metricName.MatchString(fs[0]) || len(fs) < 2 || helps[fs[0]] {
				fail("line %d: bad or repeated HELP", ln)
			}
			helps[fs[0]] = true
			continue
		}
		if strings.HasPrefix(line, "# TYPE ") {
			fs := strings.Split(line[7:], " ")
			if len(fs) != 2 || !metricName.MatchString(fs[0]) || types[fs[0]] != "" {
				fail("line %d: bad or repeated TYPE", ln)
			}
			switch fs[1] {
			case "counter", "gauge", "histogram", "summary", "untyped":
			default:
				fail("line %d: type %q", ln, fs[1])
			}
			types[fs[0]] = fs[1]
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			fail("line %d: not a sample: %q", ln, line)
		}
		name, value := m[1], m[len(m)-1]
		v, err := strconv.ParseFloat(value, 64)
		if err != nil && value != "+Inf" && value != "-Inf" && value != "NaN" {
			fail("line %d: value %q", ln, value)
		}
		family := name
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			base := strings.TrimSuffix(name, suf)
			if base != name && types[base] == "histogram" {
				family = base
			}
		}
		if types[family] == "" || !helps[family] {
			fail("line %d: sample %s before its family's HELP and TYPE", ln, name)
		}
		if types[family] == "counter" && (v < 0 || !strings.HasSuffix(family, "_total")) {
			fail("line %d: counter %s negative or not named _total", ln, name)
		}
		if types[family] == "histogram" {
			switch {
			case strings.HasSuffix(name, "_bucket"):
				if !strings.Contains(m[3], `le="`) {
					fail("line %d: bucket without le", ln)
				}
				bs := buckets[family]
				if len(bs) > 0 && v < bs[len(bs)-1] {
					fail("line %d: %s buckets not cumulative", ln, family)
				}
				buckets[family] = append(bs, v)
			case strings.HasSuffix(name, "_count"):
				counts[family] = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		fail("%v", err)
	}
	for fam, bs := range buckets {
		if len(bs) == 0 || bs[len(bs)-1] != counts[fam] {
			fail("%s: the +Inf bucket is not _count", fam)
		}
	}
	for name, t := range types {
		fmt.Printf("%s %s\n", name, t)
	}
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: explorer_check atom FILE | proof PROOF RECORD VKEY | metrics FILE")
	}
	switch os.Args[1] {
	case "atom":
		checkAtom(os.Args[2])
	case "proof":
		if len(os.Args) != 5 {
			fail("usage: explorer_check proof PROOF RECORD VKEY")
		}
		checkProof(os.Args[2], os.Args[3], os.Args[4])
	case "metrics":
		checkMetrics(os.Args[2])
	default:
		fail("unknown check %q", os.Args[1])
	}
}
