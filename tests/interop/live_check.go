// Live interop checker: verifies what a running parleyd serves with Go's
// golang.org/x/mod/sumdb (note and tlog), as an independent reference.
//
// Usage (GOPATH mode, x/mod 0.7 from Debian's golang-golang-x-mod-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run live_check.go DIR URL SKEY
//
// DIR holds what live.sh fetched with curl: log.vkey (the key parleyd init
// printed), log-key (GET /log-key), checkpoint (GET /checkpoint), old
// checkpoints cp.<N>, consistency proofs cons.<M> (from M to the latest size)
// and receipts (one "ID INDEX TREE" line per record parley logged). URL is the
// exchange; SKEY a member's signing key file, used to sign the member-only
// requests (GET /records/<id> and its proof). Hash tiles are fetched with
// curl as x/mod's TileHashReader asks for them. Exits 0 when everything
// agrees, 1 with a message naming the first mismatch otherwise.
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const tileHeight = 8

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "interop-live: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func must(err error, format string, args ...interface{}) {
	if err != nil {
		fail("%s: %v", fmt.Sprintf(format, args...), err)
	}
}

type live struct {
	dir    string
	url    string
	signer note.Signer
	origin string
	logV   note.Verifier
	fetch  int
}

// get fetches URL+target with curl; with auth, the request carries a
// Parley-Ed25519 Authorization header signed by the member's key (docs/api.md).
func (l *live) get(target string, auth bool) ([]byte, error) {
	args := []string{"-sS", "-f", "--max-time", "20"}
	if auth {
		var nonce [16]byte
		if _, err := rand.Read(nonce[:]); err != nil {
			return nil, err
		}
		empty := sha256.Sum256(nil)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		nh := hex.EncodeToString(nonce[:])
		name := fmt.Sprintf("%s+%08x", l.signer.Name(), l.signer.KeyHash())
		msg := "parley/request/v1\x00GET\n" + target + "\n" + hex.EncodeToString(empty[:]) +
			"\n" + ts + "\n" + nh + "\n" + name + "\n"
		sig, err := l.signer.Sign([]byte(msg))
		if err != nil {
			return nil, err
		}
		args = append(args, "-H", fmt.Sprintf(
			"Authorization: Parley-Ed25519 key=%s, time=%s, nonce=%s, sig=%s",
			name, ts, nh, base64.StdEncoding.EncodeToString(sig)))
	}
	args = append(args, l.url+target)
	var stderr bytes.Buffer
	cmd := exec.Command("curl", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("curl %s: %v: %s", target, err, strings.TrimSpace(stderr.String()))
	}
	l.fetch++
	return out, nil
}

func (l *live) read(name string) []byte {
	b, err := os.ReadFile(filepath.Join(l.dir, name))
	must(err, "read %s", name)
	return b
}

// parseCheckpoint reads the c2sp.org/tlog-checkpoint body. x/mod 0.7's
// tlog.ParseTree insists on the first line "go.sum database tree", so the
// origin line is taken apart here.
func parseCheckpoint(text string) (origin string, t tlog.Tree, err error) {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return "", t, errors.New("not three lines and a newline")
	}
	t.N, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || t.N < 0 || strconv.FormatInt(t.N, 10) != lines[1] {
		return "", t, errors.New("bad size line")
	}
	t.Hash, err = tlog.ParseHash(lines[2])
	return lines[0], t, err
}

// openCheckpoint verifies a signed checkpoint with the log key only.
func (l *live) openCheckpoint(what string, msg []byte) tlog.Tree {
	n, err := note.Open(msg, note.VerifierList(l.logV))
	must(err, "%s: note.Open with the log key", what)
	origin, t, err := parseCheckpoint(n.Text)
	must(err, "%s: checkpoint text", what)
	if origin != l.origin {
		fail("%s: origin %q, want %q", what, origin, l.origin)
	}
	return t
}

// tileFetcher serves x/mod's TileHashReader from the exchange. x/mod names a
// tile tile/<H>/<L>/<N>; c2sp.org/tlog-tiles fixes H = 8 and leaves it out.
type tileFetcher struct {
	l     *live
	tiles int
}

func (f *tileFetcher) Height() int { return tileHeight }

func (f *tileFetcher) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := "/tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", t.H))
		b, err := f.l.get(p, false)
		if err != nil {
			return nil, err
		}
		if len(b) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("tile %s: %d bytes, want %d", p, len(b), t.W*tlog.HashSize)
		}
		out[i] = b
		f.tiles++
	}
	return out, nil
}

func (f *tileFetcher) SaveTiles([]tlog.Tile, [][]byte) {}

func parseHashes(what string, b []byte) []tlog.Hash {
	var out []tlog.Hash
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	for _, line := range strings.Split(s, "\n") {
		h, err := tlog.ParseHash(line)
		must(err, "%s: hash %q", what, line)
		out = append(out, h)
	}
	return out
}

// parseTlogProof reads a c2sp.org/tlog-proof: a header line, an optional
// extra line, the index, the proof hashes, a blank line, the checkpoint.
func parseTlogProof(b []byte) (index int64, proof tlog.RecordProof, cp []byte, err error) {
	head, cp, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		return 0, nil, nil, errors.New("no blank line before the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" {
		return 0, nil, nil, fmt.Errorf("first line %q", lines[0])
	}
	lines = lines[1:]
	if len(lines) > 0 && strings.HasPrefix(lines[0], "extra ") {
		lines = lines[1:]
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "index ") {
		return 0, nil, nil, errors.New("no index line")
	}
	s := strings.TrimPrefix(lines[0], "index ")
	index, err = strconv.ParseInt(s, 10, 64)
	if err != nil || strconv.FormatInt(index, 10) != s {
		return 0, nil, nil, errors.New("bad index line")
	}
	for _, line := range lines[1:] {
		h, err := tlog.ParseHash(line)
		if err != nil {
			return 0, nil, nil, err
		}
		proof = append(proof, h)
	}
	return index, proof, cp, nil
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: live_check DIR URL SKEY")
		os.Exit(2)
	}
	l := &live{dir: os.Args[1], url: os.Args[2]}
	skey, err := os.ReadFile(os.Args[3])
	must(err, "read the member key")
	l.signer, err = note.NewSigner(strings.TrimSpace(string(skey)))
	must(err, "note.NewSigner with the member key")

	// The log key: what GET /log-key says is what parleyd init printed.
	served := strings.TrimSpace(string(l.read("log-key")))
	if pinned := strings.TrimSpace(string(l.read("log.vkey"))); served != pinned {
		fail("GET /log-key %q, parleyd init printed %q", served, pinned)
	}
	l.logV, err = note.NewVerifier(served)
	must(err, "note.NewVerifier with the served log key")
	l.origin = l.logV.Name()

	// The latest checkpoint, and its root rebuilt from the hash tiles.
	tree := l.openCheckpoint("GET /checkpoint", l.read("checkpoint"))
	if tree.N <= 256 {
		fail("the tree has %d entries, not more than one full tile", tree.N)
	}
	tf := &tileFetcher{l: l}
	hr := tlog.TileHashReader(tree, tf)
	th, err := tlog.TreeHash(tree.N, hr)
	must(err, "TreeHash(%d) through TileHashReader", tree.N)
	if th != tree.Hash {
		fail("tiles: tree hash %v, the checkpoint says %v", th, tree.Hash)
	}
	// Every leaf hash, through the tiles (TileHashReader checks each tile it reads
	// against the tree); kept to check the records' own hashes below.
	idx := make([]int64, tree.N)
	for i := range idx {
		idx[i] = tlog.StoredHashIndex(0, int64(i))
	}
	leaves, err := hr.ReadHashes(idx)
	must(err, "tiles: every leaf hash")

	// Old checkpoints signed along the way: each consistent with the latest.
	roots := map[int64]tlog.Hash{}
	olds, _ := filepath.Glob(filepath.Join(l.dir, "cp.*"))
	for _, f := range olds {
		t := l.openCheckpoint(filepath.Base(f), l.read(filepath.Base(f)))
		roots[t.N] = t.Hash
	}
	// Consistency proofs: the old root from an old checkpoint when one was
	// kept, otherwise computed by x/mod from the (authenticated) tiles.
	cons, _ := filepath.Glob(filepath.Join(l.dir, "cons.*"))
	sort.Strings(cons)
	checked, fromCheckpoint := 0, 0
	for _, f := range cons {
		name := filepath.Base(f)
		m, err := strconv.ParseInt(strings.TrimPrefix(name, "cons."), 10, 64)
		must(err, "%s: size", name)
		old, ok := roots[m]
		if ok {
			fromCheckpoint++
		} else if m == 0 {
			old = tlog.Hash{}
		} else {
			old, err = tlog.TreeHash(m, hr)
			must(err, "TreeHash(%d)", m)
		}
		p := parseHashes(name, l.read(name))
		if m == 0 || m == tree.N {
			if len(p) != 0 {
				fail("consistency %d..%d: %d hashes, want none", m, tree.N, len(p))
			}
			checked++
			continue
		}
		must(tlog.CheckTree(p, tree.N, tree.Hash, m, old), "consistency %d..%d", m, tree.N)
		// A proof with one hash flipped must not pass.
		bad := append(tlog.TreeProof(nil), p...)
		bad[len(bad)-1][0] ^= 1
		if tlog.CheckTree(bad, tree.N, tree.Hash, m, old) == nil {
			fail("consistency %d..%d: a tampered proof passes", m, tree.N)
		}
		checked++
	}
	if fromCheckpoint == 0 || checked < 4 {
		fail("only %d consistency proofs (%d against old checkpoints)", checked, fromCheckpoint)
	}

	// Receipts: each record, its tlog-proof at the latest size and at the size
	// its submission was proven under, all checked with CheckRecord.
	recs := 0
	for _, line := range strings.Split(strings.TrimSpace(string(l.read("receipts"))), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			fail("receipts: line %q", line)
		}
		index, err := strconv.ParseInt(f[1], 10, 64)
		must(err, "receipt %s: index", f[0])
		size, err := strconv.ParseInt(f[2], 10, 64)
		must(err, "receipt %s: tree", f[0])
		entry, err := l.get("/records/"+f[0], true)
		must(err, "GET /records/%s", f[0])
		leaf := tlog.RecordHash(entry)
		if index >= tree.N || leaves[index] != leaf {
			fail("record %s: its leaf hash is not the tiles' leaf %d", f[0], index)
		}
		for _, q := range []string{"", "?size=" + f[2]} {
			b, err := l.get("/records/"+f[0]+"/proof"+q, true)
			must(err, "GET /records/%s/proof%s", f[0], q)
			pi, proof, cp, err := parseTlogProof(b)
			must(err, "record %s: tlog-proof%s", f[0], q)
			if pi != index {
				fail("record %s: proof index %d, parley printed %d", f[0], pi, index)
			}
			t := l.openCheckpoint("proof of "+f[0], cp)
			if (q == "" && t.N != tree.N) || (q != "" && t.N != size) {
				fail("record %s: proof%s at size %d", f[0], q, t.N)
			}
			must(tlog.CheckRecord(proof, t.N, t.Hash, index, leaf),
				"record %s: CheckRecord at size %d", f[0], t.N)
			if len(proof) > 0 {
				bad := append(tlog.RecordProof(nil), proof...)
				bad[0][0] ^= 1
				if tlog.CheckRecord(bad, t.N, t.Hash, index, leaf) == nil {
					fail("record %s: a tampered proof passes", f[0])
				}
			}
			if tlog.CheckRecord(proof, t.N, t.Hash, index, tlog.RecordHash(append(entry, 'x'))) == nil {
				fail("record %s: the proof passes for another entry", f[0])
			}
			if old, ok := roots[t.N]; ok && old != t.Hash {
				fail("record %s: the proof's checkpoint at size %d has another root", f[0], t.N)
			}
		}
		recs++
	}
	if recs < 3 {
		fail("only %d receipts", recs)
	}
	fmt.Printf("interop-live: ok: %s at size %d: root from %d hash tiles, %d consistency proofs "+
		"(%d against old checkpoints), %d records with %d inclusion proofs; %d fetches\n",
		l.origin, tree.N, tf.tiles, checked, fromCheckpoint, recs, 2*recs, l.fetch)
}
