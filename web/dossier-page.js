/*
 * The self-verifying dossier page's script: hands the embedded dossier and
 * the keys in the form to libparley's verifier (C compiled to WebAssembly,
 * pl_dossier_check_html) and shows the page it returns. It decides nothing
 * and words no verdict itself.
 */
(function () {
	'use strict';
	var status = document.getElementById('pl-status');
	var report = document.getElementById('pl-report');
	var verifier = null;

	function setStatus(state, text) {
		status.setAttribute('data-state', state);
		status.textContent = text;
	}

	function decode(b64) {
		var s = atob(b64.replace(/\s+/g, ''));
		var u = new Uint8Array(s.length);
		for (var i = 0; i < s.length; i++)
			u[i] = s.charCodeAt(i);
		return u;
	}

	function cString(M, text) {
		var n = M.lengthBytesUTF8(text) + 1;
		var p = M._malloc(n);
		M.stringToUTF8(text, p, n);
		return p;
	}

	function show(html) {
		var doc = new DOMParser().parseFromString(html, 'text/html');
		report.replaceChildren();
		doc.querySelectorAll('style').forEach(function (s) {
			report.appendChild(document.importNode(s, true));
		});
		Array.prototype.forEach.call(doc.body.childNodes, function (n) {
			report.appendChild(document.importNode(n, true));
		});
	}

	function check() {
		var M = verifier;
		var dossier = decode(document.getElementById('pl-dossier').textContent);
		var d = M._malloc(dossier.length + 1);
		var lk = cString(M, document.getElementById('pl-log-key').value);
		var wk = cString(M, document.getElementById('pl-witness-keys').value);
		var r, out;

		var t0 = performance.now();
		M.HEAPU8.set(dossier, d);
		M.HEAPU8[d + dossier.length] = 0;
		r = M._pl_wasm_check(d, dossier.length, lk, wk);
		/* For bench/browser_dossier.sh: the check's time, and the time since the page opened. */
		status.setAttribute('data-check-ms', (performance.now() - t0).toFixed(1));
		status.setAttribute('data-ready-ms', performance.now().toFixed(1));
		M._free(d);
		M._free(lk);
		M._free(wk);
		if (!r) {
			setStatus('error', 'The verifier ran out of memory.');
			return;
		}
		out = M.UTF8ToString(r);
		M._pl_wasm_free(r);
		show(out.slice(1));
		if (out[0] === 'V')
			setStatus('verified', 'Verified in this browser by libparley\'s verifier ' +
			                      '(WebAssembly), offline.');
		else
			setStatus('refused', 'Checked in this browser by libparley\'s verifier ' +
			                     '(WebAssembly), offline: see below.');
	}

	document.getElementById('pl-keys').addEventListener('submit', function (e) {
		e.preventDefault();
		if (verifier)
			check();
	});
	sodium.ready
	        .then(function () {
		        return ParleyVerifier();
	        })
	        .then(function (M) {
		        verifier = M;
		        check();
	        })
	        .catch(function (e) {
		        setStatus('error', 'The verifier could not start: ' + e);
	        });
})();
