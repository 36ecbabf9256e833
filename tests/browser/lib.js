// Shared by the browser checks: start Debian's chromium headless through
// puppeteer-core, isolated (a new empty profile, no network services).
// Exit code 77 with a message when chromium cannot start: the bats tests
// skip on that, and only on that.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const puppeteer = require('puppeteer-core');

const CHROMIUM = process.env.CHROMIUM || ['/usr/bin/chromium', '/usr/bin/chromium-browser']
	.find((p) => fs.existsSync(p));

async function launch() {
	if (!CHROMIUM) {
		console.log(JSON.stringify({ cannot_start: 'no chromium binary (install Debian chromium)' }));
		process.exit(77);
	}
	const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'profshim-chromium-'));
	try {
		const browser = await puppeteer.launch({
			executablePath: CHROMIUM,
			headless: true,
			userDataDir,
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
				'--no-first-run', '--disable-background-networking',
				'--disable-component-update', '--disable-sync',
				'--disable-dev-shm-usage'],
			timeout: 60000,
		});
		browser.profshimDir = userDataDir;
		return browser;
	} catch (e) {
		fs.rmSync(userDataDir, { recursive: true, force: true });
		console.log(JSON.stringify({ cannot_start: String(e.message || e).split('\n')[0] }));
		process.exit(77);
	}
}

// Collect console errors, page errors and requests that leave the machine.
function watch(page) {
	const w = { errors: [], external: [] };
	page.on('console', (m) => { if (m.type() === 'error') w.errors.push(m.text()); });
	page.on('pageerror', (e) => w.errors.push(String(e)));
	page.on('request', (r) => {
		const u = r.url();
		if (!u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('http://127.0.0.1'))
			w.external.push(u);
	});
	return w;
}

// Close the browser and remove its profile.
async function close(browser) {
	await browser.close();
	try {
		fs.rmSync(browser.profshimDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
	} catch (e) {
		/* a leftover temporary profile is harmless */
	}
}

module.exports = { launch, watch, close };
