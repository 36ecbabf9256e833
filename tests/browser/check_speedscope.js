// Load a profile into speedscope (npm package, served on 127.0.0.1 on a
// free port, with the profile) in headless chromium and report, as JSON,
// the profile names speedscope lists and, from its Sandwich view, the
// functions with their self and total weights.
// usage: node check_speedscope.js PROFILE [SCREENSHOT.png]
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { launch, watch, close } = require('./lib');

const ROOT = path.join(__dirname, 'node_modules', 'speedscope', 'dist', 'release');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
	'.json': 'application/json', '.png': 'image/png', '.woff2': 'font/woff2', '.wasm': 'application/wasm' };

function serve(profile) {
	const server = http.createServer((req, res) => {
		const url = decodeURIComponent(req.url.split('?')[0].split('#')[0]);
		const file = url.startsWith('/profile/') ? profile : path.join(ROOT, path.normalize(url === '/' ? '/index.html' : url));
		if (file !== profile && !file.startsWith(ROOT)) { res.writeHead(403); res.end(); return; }
		fs.readFile(file, (err, data) => {
			if (err) { res.writeHead(404); res.end(); return; }
			res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
			res.end(data);
		});
	});
	return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

// "200.00ms (100%)" -> 200000 (microseconds), "1.50 KB" -> 1536 (bytes);
// plain numbers as they are.
function parseValue(text) {
	const m = /^([\d.,]+)\s*([a-zA-Zµμ]*)/.exec(text);
	if (!m) return 0;
	const v = parseFloat(m[1].replace(/,/g, ''));
	const f = { ns: 1e-3, 'µs': 1, 'μs': 1, us: 1, ms: 1e3, s: 1e6, min: 6e7, B: 1, KB: 1024, MB: 1048576, GB: 1073741824 };
	return v * (f[m[2]] !== undefined ? f[m[2]] : 1);
}

(async () => {
	const [profile, shot] = process.argv.slice(2);
	const server = await serve(path.resolve(profile));
	const port = server.address().port;
	const browser = await launch();
	const page = await browser.newPage();
	const w = watch(page);
	await page.setViewport({ width: 1400, height: 900 });
	const name = path.basename(profile);
	const profileURL = `http://127.0.0.1:${port}/profile/${encodeURIComponent(name)}`;
	await page.goto(`http://127.0.0.1:${port}/index.html#profileURL=${encodeURIComponent(profileURL)}`,
		{ waitUntil: 'load', timeout: 60000 });
	// speedscope is ready when the view switcher shows
	await page.waitForFunction(() => /Sandwich/.test(document.body.innerText) || /empty|rror/.test(document.body.innerText), { timeout: 120000 });
	const r = { profiles: [] };
	const title = () => page.evaluate(() => {
		const lines = document.body.innerText.split('\n');
		const m = lines[1] && lines[1].match(/^(.*) \((\d+)\/(\d+)\)$/);
		if (m) return { name: m[1], index: +m[2], count: +m[3] };
		return lines[1] ? { name: lines[1], index: 1, count: 1 } : null; /* one profile */
	});
	// the Sandwich view: a table of Total, Self, Symbol Name
	await page.evaluate(() => {
		const b = [...document.querySelectorAll('div,span,button')].find((e) => e.textContent.trim().endsWith('Sandwich') && e.children.length < 3);
		if (b) b.click();
	});
	await page.waitForFunction(() => /Symbol Name/.test(document.body.innerText), { timeout: 30000 });
	let t = await title();
	for (let i = 0; t && i < t.count; i++) {
		await new Promise((ok) => setTimeout(ok, 300));
		const rows = await page.evaluate(() => {
			const text = document.body.innerText;
			const at = text.indexOf('Symbol Name');
			const cells = text.slice(at + 'Symbol Name'.length).split(/[\n\t]+/).map((x) => x.trim()).filter((x) => x);
			const out = [];
			for (let k = 0; k + 2 < cells.length; k += 3)
				out.push({ total: cells[k], self: cells[k + 1], name: cells[k + 2] });
			return out;
		});
		const p = { name: t.name, functions: {} };
		let sum = 0;
		for (const row of rows) {
			const v = parseValue(row.self);
			p.functions[row.name] = v;
			sum += v;
		}
		p.total = sum;
		r.profiles.push(p);
		await page.keyboard.press('n'); // speedscope: next profile
		await new Promise((ok) => setTimeout(ok, 300));
		t = await title();
	}
	if (shot) await page.screenshot({ path: shot });
	r.errors = w.errors;
	console.log(JSON.stringify(r));
	await close(browser);
	server.close();
})().catch((e) => {
	console.log(JSON.stringify({ failed: String(e.stack || e) }));
	process.exit(1);
});
