/*
 * A statement page's verification, in the visitor's browser (served by
 * parleyd as /assets/parley-verify.js). It fills <section id="pl-verify">,
 * whose attributes name what to check:
 *   data-record       URL of the raw signed record
 *   data-proof        URL of its c2sp.org/tlog-proof
 *   data-checkpoint   URL of the newest cosigned checkpoint (shown, not needed:
 *                     the proof carries the checkpoint it is against)
 *   data-author-key   the author's verifier key text(s)
 *   data-log-key      the log key
 *   data-witness-keys the witness keys, separated by spaces
 * It loads libsodium's build and libparley's verifier (C compiled to
 * WebAssembly) from beside itself, fetches the record and the proof, and
 * shows what pl_statement_check_html() returns: the C code decides and words
 * the verdict, not this script.
 */
(function () {
	'use strict';
	var me = document.currentScript;
	var base = me && me.src ? me.src.replace(/[^/]*$/, '') : '/assets/';

	function load(name) {
		return new Promise(function (resolve, reject) {
			var s = document.createElement('script');
			s.src = base + name;
			s.onload = resolve;
			s.onerror = function () {
				reject(new Error('cannot load ' + name));
			};
			document.head.appendChild(s);
		});
	}

	function fetchBytes(url) {
		return fetch(url, {credentials: 'omit'}).then(function (r) {
			if (!r.ok)
				throw new Error(url + ': HTTP ' + r.status);
			return r.arrayBuffer();
		}).then(function (b) {
			return new Uint8Array(b);
		});
	}

	function copyIn(M, bytes) {
		var p = M._malloc(bytes.length + 1);
		M.HEAPU8.set(bytes, p);
		M.HEAPU8[p + bytes.length] = 0;
		return p;
	}

	function show(sec, state, html, text) {
		var box = sec.querySelector('.pl-verify-result');
		if (!box) {
			box = document.createElement('div');
			box.className = 'pl-verify-result';
			sec.appendChild(box);
		}
		sec.setAttribute('data-state', state);
		if (html !== null)
			box.replaceChildren.apply(box, Array.prototype.slice.call(
			        new DOMParser().parseFromString(html, 'text/html').body.childNodes)
			                                            .map(function (n) {
				                                            return document.importNode(n, true);
			                                            }));
		else
			box.textContent = text;
	}

	function verify(sec) {
		var attr = function (n) {
			return sec.getAttribute(n) || '';
		};
		var enc = new TextEncoder();
		show(sec, 'pending', null, 'Verifying in this browser\u2026');
		return load('libsodium-sumo.js')
		        .then(function () {
			        return load('libsodium-wrappers.js');
		        })
		        .then(function () {
			        return load('parley-verifier.js');
		        })
		        .then(function () {
			        return sodium.ready;
		        })
		        .then(function () {
			        return Promise.all([ParleyVerifier(), fetchBytes(attr('data-record')),
			                            fetchBytes(attr('data-proof'))]);
		        })
		        .then(function (got) {
			        var M = got[0];
			        var args = [copyIn(M, got[1]), got[1].length, copyIn(M, got[2]),
			                    got[2].length,
			                    copyIn(M, enc.encode(attr('data-author-key'))),
			                    copyIn(M, enc.encode(attr('data-log-key'))),
			                    copyIn(M, enc.encode(attr('data-witness-keys')))];
			        var r = M._pl_wasm_check_statement.apply(null, args);
			        var out;
			        [0, 2, 4, 5, 6].forEach(function (i) {
				        M._free(args[i]);
			        });
			        if (!r)
				        throw new Error('the verifier ran out of memory');
			        out = M.UTF8ToString(r);
			        M._pl_wasm_free(r);
			        show(sec, out[0] === 'V' ? 'verified' : 'refused', out.slice(1), null);
		        })
		        .catch(function (e) {
			        show(sec, 'error', null, 'Could not verify in this browser: ' + e.message);
		        });
	}

	function start() {
		var sec = document.getElementById('pl-verify');
		if (sec)
			verify(sec);
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
})();
