// Interop checker: verifies what Parley's C generator wrote with Go's
// golang.org/x/mod/sumdb (note and tlog), and hands objects made by x/mod to
// the parley binary.
//
// Usage (GOPATH mode, x/mod 0.7 from Debian's golang-golang-x-mod-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run check.go DIR PARLEY
//
// DIR holds the generator's output and its manifest; PARLEY is the parley
// binary. Exits 0 when everything agrees, 1 with a message naming the first
// mismatch otherwise.
package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const tileHeight = 8

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "interop: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func must(err error, format string, args ...interface{}) {
	if err != nil {
		fail("%s: %v", fmt.Sprintf(format, args...), err)
	}
}

func readFile(dir, name string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, name))
	must(err, "read %s", name)
	return b
}

func atoi64(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	must(err, "number %q", s)
	return n
}

// A witness key of type 0x04 (c2sp.org/tlog-cosignature), which x/mod 0.7's
// NewVerifier does not know; parsed here from the key text.
type witnessKey struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func keyHash(name string, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

func parseWitnessKey(vkey string) witnessKey {
	f := strings.SplitN(vkey, "+", 3)
	if len(f) != 3 || len(f[1]) != 8 {
		fail("witness key %q: not name+hash+key", vkey)
	}
	hash, err := strconv.ParseUint(f[1], 16, 32)
	must(err, "witness key %q: hash", vkey)
	key, err := base64.StdEncoding.DecodeString(f[2])
	must(err, "witness key %q: base64", vkey)
	if len(key) != 33 || key[0] != 0x04 {
		fail("witness key %q: not a 0x04 Ed25519 key", vkey)
	}
	if keyHash(f[0], key) != uint32(hash) {
		fail("witness key %q: key hash does not match", vkey)
	}
	return witnessKey{f[0], uint32(hash), ed25519.PublicKey(key[1:])}
}

// checkCosignature verifies one cosignature/v1 line of a checkpoint note.
func checkCosignature(w witnessKey, text string, sig note.Signature) error {
	raw, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil {
		return err
	}
	if len(raw) != 4+8+64 {
		return fmt.Errorf("cosignature of %d bytes", len(raw))
	}
	ts := binary.BigEndian.Uint64(raw[4:12])
	if ts >= 1<<63 {
		return errors.New("timestamp out of range")
	}
	msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)
	if !ed25519.Verify(w.pub, []byte(msg), raw[12:]) {
		return errors.New("cosignature does not verify")
	}
	return nil
}

// The log as rebuilt here, independently, with x/mod's tlog from the entries.
type memLog struct {
	entries [][]byte
	hashes  []tlog.Hash
}

func (m *memLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("hash index %d not stored", x)
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}

func (m *memLog) append(data []byte) {
	h, err := tlog.StoredHashes(int64(len(m.entries)), data, m)
	must(err, "StoredHashes")
	m.entries = append(m.entries, data)
	m.hashes = append(m.hashes, h...)
}

// treeHash fills x/mod 0.7's gap: its TreeHash(0) is all zeros, RFC 6962's
// empty tree hash is SHA-256 of the empty string.
func (m *memLog) treeHash(n int64) tlog.Hash {
	if n == 0 {
		return tlog.Hash(sha256.Sum256(nil))
	}
	h, err := tlog.TreeHash(n, m)
	must(err, "TreeHash(%d)", n)
	return h
}

// parseCheckpoint reads the three lines of a c2sp.org/tlog-checkpoint text.
// x/mod 0.7's tlog.ParseTree wants the first line "go.sum database tree",
// so the origin line is handled here.
func parseCheckpoint(text string) (origin string, n int64, h tlog.Hash, err error) {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return "", 0, h, errors.New("not three lines")
	}
	n, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return "", 0, h, errors.New("bad size line")
	}
	h, err = tlog.ParseHash(lines[2])
	if err != nil {
		return "", 0, h, err
	}
	return lines[0], n, h, nil
}

type checker struct {
	dir      string
	parley   string
	origin   string
	logKey   string
	logV     note.Verifier
	wits     []witnessKey
	log      memLog
	counts   map[string]int
	sizeRoot map[int64]tlog.Hash
}

// openCheckpoint opens a signed checkpoint with the log key, checks its
// origin, size and root against the rebuilt log, and every cosignature by a
// known witness. Returns the number of witness cosignatures that verified.
func (c *checker) openCheckpoint(what string, msg []byte, size int64) int {
	n, err := note.Open(msg, note.VerifierList(c.logV))
	must(err, "%s: note.Open with the log key", what)
	origin, sz, root, err := parseCheckpoint(n.Text)
	must(err, "%s: checkpoint text", what)
	if origin != c.origin {
		fail("%s: origin %q, want %q", what, origin, c.origin)
	}
	if sz != size {
		fail("%s: size %d, want %d", what, sz, size)
	}
	if want := c.log.treeHash(size); root != want {
		fail("%s: root %v, x/mod computes %v for size %d", what, root, want, size)
	}
	cosigned := 0
	for _, s := range n.UnverifiedSigs {
		for _, w := range c.wits {
			if s.Name == w.name && s.Hash == w.hash {
				must(checkCosignature(w, n.Text, s), "%s: cosignature by %s", what, w.name)
				cosigned++
			}
		}
	}
	return cosigned
}

func parseHashes(what string, lines []string) []tlog.Hash {
	var out []tlog.Hash
	for _, l := range lines {
		h, err := tlog.ParseHash(l)
		must(err, "%s: hash %q", what, l)
		out = append(out, h)
	}
	return out
}

func hashLines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func sameHashes(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// tileDirReader serves x/mod's TileHashReader from Parley's tile files.
// x/mod names tiles tile/<H>/<L>/<N>; c2sp.org/tlog-tiles fixes H = 8 and
// leaves it out of the path: tile/<L>/<N>.
type tileDirReader struct {
	dir string
}

func (r tileDirReader) Height() int { return tileHeight }

func ourTilePath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", t.H))
}

func (r tileDirReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := os.ReadFile(filepath.Join(r.dir, ourTilePath(t)))
		if err != nil {
			return nil, err
		}
		if len(b) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("tile %s: %d bytes, want %d", ourTilePath(t), len(b),
				t.W*tlog.HashSize)
		}
		out[i] = b
	}
	return out, nil
}

func (r tileDirReader) SaveTiles([]tlog.Tile, [][]byte) {}

// checkTiles reads every leaf hash of the tree through x/mod's
// TileHashReader and compares each with the log rebuilt here (x/mod 0.7's
// reader does not authenticate every tile it reads against the root, so its
// answer alone is not taken as proof), then compares the entry bundles with
// the entries.
func (c *checker) checkTiles(dir string, size int64) {
	root := c.log.treeHash(size)
	hr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, tileDirReader{filepath.Join(c.dir, dir)})
	th, err := tlog.TreeHash(size, hr)
	must(err, "tiles %s: TreeHash through TileHashReader", dir)
	if th != root {
		fail("tiles %s: tree hash %v, want %v", dir, th, root)
	}
	for lo := int64(0); lo < size; lo += 256 {
		var idx []int64
		for i := lo; i < size && i < lo+256; i++ {
			idx = append(idx, tlog.StoredHashIndex(0, i))
		}
		hs, err := hr.ReadHashes(idx)
		must(err, "tiles %s: leaf hashes from %d", dir, lo)
		for k, h := range hs {
			if want := tlog.RecordHash(c.log.entries[lo+int64(k)]); h != want {
				fail("tiles %s: leaf %d hash %v, want %v", dir, lo+int64(k), h, want)
			}
		}
		// The level-1 hashes too: every stored hash a tile holds is checked somewhere.
		if lo+256 <= size {
			l1, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(8, lo/256)})
			must(err, "tiles %s: level-8 hash %d", dir, lo/256)
			if want := c.log.hashes[tlog.StoredHashIndex(8, lo/256)]; l1[0] != want {
				fail("tiles %s: level-8 hash %d differs", dir, lo/256)
			}
		}
	}
	// Entry bundles: tile/entries/<N>[.p/<W>], each entry a big-endian uint16 length and bytes.
	for n := int64(0); n*256 < size; n++ {
		w := size - n*256
		if w > 256 {
			w = 256
		}
		t := tlog.Tile{H: tileHeight, L: 0, N: n, W: int(w)}
		p := strings.Replace(ourTilePath(t), "tile/0/", "tile/entries/", 1)
		b, err := os.ReadFile(filepath.Join(c.dir, dir, p))
		must(err, "entry bundle")
		for i := int64(0); i < w; i++ {
			if len(b) < 2 {
				fail("entry bundle %s: truncated at entry %d", p, i)
			}
			l := int(binary.BigEndian.Uint16(b))
			if len(b) < 2+l {
				fail("entry bundle %s: truncated at entry %d", p, i)
			}
			if !bytes.Equal(b[2:2+l], c.log.entries[n*256+i]) {
				fail("entry bundle %s: entry %d differs", p, n*256+i)
			}
			b = b[2+l:]
		}
		if len(b) != 0 {
			fail("entry bundle %s: %d trailing bytes", p, len(b))
		}
		c.counts["entry bundles"]++
	}
	c.counts["tile trees"]++
}

// parseTlogProof reads a c2sp.org/tlog-proof; the format is simple enough
// that x/mod has no parser for it.
func parseTlogProof(b []byte) (index int64, proof tlog.RecordProof, checkpoint []byte, err error) {
	head, cp, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		return 0, nil, nil, errors.New("no blank line before the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" {
		return 0, nil, nil, errors.New("bad first line")
	}
	lines = lines[1:]
	if len(lines) > 0 && strings.HasPrefix(lines[0], "extra ") {
		lines = lines[1:]
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "index ") {
		return 0, nil, nil, errors.New("no index line")
	}
	is := strings.TrimPrefix(lines[0], "index ")
	index, err = strconv.ParseInt(is, 10, 64)
	if err != nil || strconv.FormatInt(index, 10) != is {
		return 0, nil, nil, errors.New("bad index")
	}
	for _, l := range lines[1:] {
		h, err := tlog.ParseHash(l)
		if err != nil {
			return 0, nil, nil, err
		}
		proof = append(proof, h)
	}
	return index, proof, cp, nil
}

func (c *checker) line(f []string) {
	switch f[0] {
	case "origin":
		c.origin = f[1]
	case "logkey":
		c.logKey = f[1]
		v, err := note.NewVerifier(f[1])
		must(err, "log key: note.NewVerifier(%q)", f[1])
		if v.Name() != c.origin {
			fail("log key name %q, origin %q", v.Name(), c.origin)
		}
		c.logV = v
		c.counts["keys"]++
	case "witness":
		c.wits = append(c.wits, parseWitnessKey(f[1]))
		c.counts["keys"]++
	case "entry":
		b, err := base64.StdEncoding.DecodeString(f[1])
		must(err, "entry %d", len(c.log.entries))
		c.log.append(b)
	case "skey":
		// Our signer key format must be Go's: sign with it there, verify with our vkey.
		s, err := note.NewSigner(string(bytes.TrimSpace(readFile(c.dir, f[1]))))
		must(err, "%s: note.NewSigner", f[1])
		v, err := note.NewVerifier(string(bytes.TrimSpace(readFile(c.dir, f[2]))))
		must(err, "%s: note.NewVerifier", f[2])
		msg, err := note.Sign(&note.Note{Text: "signed by Go with a Parley key\n"}, s)
		must(err, "note.Sign with %s", f[1])
		_, err = note.Open(msg, note.VerifierList(v))
		must(err, "note signed with %s, opened with %s", f[1], f[2])
		c.counts["signer keys"]++
	case "note":
		// note FILE TEXTFILE VKEYFILE...: opens, yields the text, all keys signed.
		var vs []note.Verifier
		for _, kf := range f[3:] {
			v, err := note.NewVerifier(string(bytes.TrimSpace(readFile(c.dir, kf))))
			must(err, "%s: note.NewVerifier", kf)
			vs = append(vs, v)
			c.counts["keys"]++
		}
		n, err := note.Open(readFile(c.dir, f[1]), note.VerifierList(vs...))
		must(err, "%s: note.Open", f[1])
		if n.Text != string(readFile(c.dir, f[2])) {
			fail("%s: text differs from %s", f[1], f[2])
		}
		if len(n.Sigs) != len(vs) {
			fail("%s: %d of %d signatures verified", f[1], len(n.Sigs), len(vs))
		}
		c.counts["notes"]++
	case "badnote":
		// badnote FILE VKEYFILE: a tampered note that must not open.
		v, err := note.NewVerifier(string(bytes.TrimSpace(readFile(c.dir, f[2]))))
		must(err, "%s: note.NewVerifier", f[2])
		if _, err := note.Open(readFile(c.dir, f[1]), note.VerifierList(v)); err == nil {
			fail("%s: tampered note opens", f[1])
		}
		c.counts["tampered notes"]++
	case "checkpoint":
		// checkpoint FILE SIZE WITNESSES: signed by the log, cosigned by that many witnesses.
		size := atoi64(f[2])
		if got := c.openCheckpoint(f[1], readFile(c.dir, f[1]), size); got != int(atoi64(f[3])) {
			fail("%s: %d witness cosignatures verified, want %s", f[1], got, f[3])
		}
		c.counts["checkpoints"]++
		if got := atoi64(f[3]); got > 0 {
			c.counts["cosigned checkpoints"]++
		}
	case "inclusion":
		// inclusion FILE INDEX SIZE
		idx, size := atoi64(f[2]), atoi64(f[3])
		p := parseHashes(f[1], hashLines(readFile(c.dir, f[1])))
		must(tlog.CheckRecord(p, size, c.log.treeHash(size), idx,
			tlog.RecordHash(c.log.entries[idx])), "%s: tlog.CheckRecord", f[1])
		want, err := tlog.ProveRecord(size, idx, &c.log)
		must(err, "tlog.ProveRecord(%d, %d)", size, idx)
		if !sameHashes(p, want) {
			fail("%s: proof differs from x/mod's ProveRecord", f[1])
		}
		c.counts["inclusion proofs"]++
	case "consistency":
		// consistency FILE OLD NEW
		old, size := atoi64(f[2]), atoi64(f[3])
		p := parseHashes(f[1], hashLines(readFile(c.dir, f[1])))
		must(tlog.CheckTree(p, size, c.log.treeHash(size), old, c.log.treeHash(old)),
			"%s: tlog.CheckTree", f[1])
		want, err := tlog.ProveTree(size, old, &c.log)
		must(err, "tlog.ProveTree(%d, %d)", size, old)
		if !sameHashes(p, want) {
			fail("%s: proof differs from x/mod's ProveTree", f[1])
		}
		c.counts["consistency proofs"]++
	case "tlogproof":
		// tlogproof FILE SIZE WITNESSES
		idx, p, cp, err := parseTlogProof(readFile(c.dir, f[1]))
		must(err, "%s: tlog-proof", f[1])
		size := atoi64(f[2])
		if got := c.openCheckpoint(f[1], cp, size); got != int(atoi64(f[3])) {
			fail("%s: %d witness cosignatures verified, want %s", f[1], got, f[3])
		}
		must(tlog.CheckRecord(p, size, c.log.treeHash(size), idx,
			tlog.RecordHash(c.log.entries[idx])), "%s: tlog.CheckRecord", f[1])
		c.counts["tlog-proofs"]++
	case "tiles":
		c.checkTiles(f[1], atoi64(f[2]))
	default:
		fail("manifest: unknown line %q", strings.Join(f, " "))
	}
}

// runParley runs the binary with stdin and returns its stdout and exit code.
func (c *checker) runParley(stdin []byte, args ...string) (string, int) {
	cmd := exec.Command(c.parley, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		fail("run parley %v: %v", args, err)
	}
	return out.String(), code
}

func (c *checker) expectParley(want int, stdin []byte, args ...string) string {
	out, code := c.runParley(stdin, args...)
	if code != want {
		fail("parley %s: exit %d, want %d", strings.Join(args, " "), code, want)
	}
	return out
}

func writeFile(dir, name string, b []byte, mode os.FileMode) string {
	p := filepath.Join(dir, name)
	must(os.WriteFile(p, b, mode), "write %s", p)
	return p
}

// reverse makes keys, notes and a tlog-proof with x/mod and checks them with parley.
func (c *checker) reverse() {
	dir := filepath.Join(c.dir, "go")
	must(os.MkdirAll(dir, 0o700), "mkdir %s", dir)

	skey1, vkey1, err := note.GenerateKey(rand.Reader, "hotline.example/unc")
	must(err, "note.GenerateKey")
	skey2, vkey2, err := note.GenerateKey(rand.Reader, "hotline.example/kpa")
	must(err, "note.GenerateKey")
	s1, err := note.NewSigner(skey1)
	must(err, "note.NewSigner")
	s2, err := note.NewSigner(skey2)
	must(err, "note.NewSigner")
	text := "We have not conveyed any messages or proposals\nspecific to inter-Korean dialogue.\n"
	msg, err := note.Sign(&note.Note{Text: text}, s1, s2)
	must(err, "note.Sign")
	vk1 := writeFile(dir, "unc.vkey", []byte(vkey1+"\n"), 0o644)

	// Verifies with each key, given as a file or as text; prints the text.
	if out := c.expectParley(0, msg, "note", "verify", "--key", vk1); out != text {
		fail("parley note verify printed %q, want %q", out, text)
	}
	c.expectParley(0, msg, "note", "verify", "--key", vkey2)
	c.expectParley(0, msg, "note", "verify", "--key", vkey1, "--key", vkey2)
	// A key that did not sign: 1. A changed text: 1. Not a note: 2.
	_, vkey3, err := note.GenerateKey(rand.Reader, "hotline.example/unc")
	must(err, "note.GenerateKey")
	c.expectParley(1, msg, "note", "verify", "--key", vkey3)
	bad := bytes.Replace(msg, []byte("not conveyed"), []byte("now conveyed"), 1)
	c.expectParley(1, bad, "note", "verify", "--key", vkey1)
	c.expectParley(2, []byte(text), "note", "verify", "--key", vkey1)
	c.counts["Go notes checked by parley"]++

	// A Go signer key works with parley note sign, and Go opens the result.
	sk := writeFile(dir, "go.skey", []byte(skey1+"\n"), 0o600)
	signed := c.expectParley(0, []byte(text), "note", "sign", "--key", sk)
	v1, err := note.NewVerifier(vkey1)
	must(err, "note.NewVerifier")
	n, err := note.Open([]byte(signed), note.VerifierList(v1))
	must(err, "note signed by parley with a Go key: note.Open")
	if n.Text != text {
		fail("note signed by parley: text %q, want %q", n.Text, text)
	}
	c.counts["Go signer keys used by parley"]++

	// A tlog-proof made with x/mod: a tree, a checkpoint signed by a Go key, a proof.
	origin := "go.example/log"
	lskey, lvkey, err := note.GenerateKey(rand.Reader, origin)
	must(err, "note.GenerateKey")
	ls, err := note.NewSigner(lskey)
	must(err, "note.NewSigner")
	var gl memLog
	for i := 0; i < 300; i++ {
		gl.append([]byte(fmt.Sprintf("go entry %d\n", i)))
	}
	for _, tc := range []struct{ size, index int64 }{{300, 0}, {300, 299}, {300, 137}, {1, 0}, {257, 256}} {
		root := gl.treeHash(tc.size)
		cp, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n%d\n%s\n", origin, tc.size, root)}, ls)
		must(err, "note.Sign checkpoint")
		p, err := tlog.ProveRecord(tc.size, tc.index, &gl)
		must(err, "tlog.ProveRecord")
		var b strings.Builder
		fmt.Fprintf(&b, "c2sp.org/tlog-proof@v1\nindex %d\n", tc.index)
		for _, h := range p {
			fmt.Fprintf(&b, "%s\n", h)
		}
		b.WriteString("\n")
		b.Write(cp)
		pf := writeFile(dir, fmt.Sprintf("p-%d-%d.tlog-proof", tc.size, tc.index), []byte(b.String()), 0o644)
		ef := writeFile(dir, fmt.Sprintf("e-%d", tc.index), gl.entries[tc.index], 0o644)
		c.expectParley(0, nil, "log", "verify-proof", pf, "--log-key", lvkey, "--entry", ef)
		lh := tlog.RecordHash(gl.entries[tc.index])
		c.expectParley(0, nil, "log", "verify-proof", pf, "--log-key", lvkey,
			"--leaf-hash", base64.StdEncoding.EncodeToString(lh[:]))
		// Another entry: the proof does not hold.
		other := writeFile(dir, "other", []byte("not logged\n"), 0o644)
		c.expectParley(1, nil, "log", "verify-proof", pf, "--log-key", lvkey, "--entry", other)
		c.counts["Go tlog-proofs checked by parley"]++
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run check.go DIR PARLEY")
		os.Exit(2)
	}
	c := &checker{dir: os.Args[1], parley: os.Args[2], counts: map[string]int{}}
	f, err := os.Open(filepath.Join(c.dir, "manifest"))
	must(err, "manifest")
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			fail("manifest: short line %q", sc.Text())
		}
		c.line(fields)
	}
	must(sc.Err(), "manifest")
	f.Close()
	c.reverse()

	// Nothing may pass by being absent.
	for _, k := range []string{"keys", "signer keys", "notes", "tampered notes", "checkpoints",
		"cosigned checkpoints", "inclusion proofs", "consistency proofs", "tlog-proofs",
		"tile trees", "entry bundles"} {
		if c.counts[k] == 0 {
			fail("the generator wrote no %s", k)
		}
	}
	for _, k := range []string{"keys", "signer keys", "notes", "tampered notes", "checkpoints",
		"cosigned checkpoints", "inclusion proofs", "consistency proofs", "tlog-proofs",
		"tile trees", "entry bundles", "Go notes checked by parley",
		"Go signer keys used by parley", "Go tlog-proofs checked by parley"} {
		fmt.Printf("interop: ok: %d %s\n", c.counts[k], k)
	}
}
