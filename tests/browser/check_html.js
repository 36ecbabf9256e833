// Load profanalyze's HTML report in headless chromium and report, as JSON,
// what a person would see: errors, flame graph frames, the heap chart,
// a search for a function, the time to open; saves a screenshot.
// usage: node check_html.js REPORT.html SCREENSHOT.png FUNCTION
'use strict';
const path = require('path');
const { launch, watch, close } = require('./lib');

(async () => {
	const [html, shot, search] = process.argv.slice(2);
	const browser = await launch();
	const page = await browser.newPage();
	const w = watch(page);
	await page.setViewport({ width: 1200, height: 900 });
	const t0 = Date.now();
	await page.goto('file://' + path.resolve(html), { waitUntil: 'load', timeout: 60000 });
	await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
	const open_ms = Date.now() - t0;
	const r = { open_ms };
	r.sections = await page.$$eval('section', (s) => s.map((x) => x.id));
	r.flame_tabs = await page.$$eval('.tabs button', (b) => b.map((x) => x.dataset.kind));
	r.frames = await page.$$eval('.fg-frame', (f) => f.length);
	r.frame_names = await page.$$eval('.fg-frame', (f) => f.map((x) => x.title.split(' \u2014 ')[0]));
	r.heap_lines = await page.$$eval('#heap-chart polyline.heap-line', (l) => l.length);
	r.heap_points = await page.$$eval('#heap-chart polyline.heap-line',
		(l) => (l[0] ? l[0].getAttribute('points').split(' ').length : 0));
	r.heap_peak = await page.$$eval('#heap-peak', (p) => p.length);
	r.thread_bars = await page.$$eval('#threads-chart rect.thread-bar', (b) => b.length);
	r.notes = await page.$$eval('.note', (n) => n.map((x) => x.textContent));
	r.markers = await page.$$eval('#heap-chart line.marker', (l) => l.length);
	r.marker_labels = await page.$$eval('#heap-chart text.marker-label', (t) => t.map((x) => x.textContent));
	// sort the first table by its third column (a number), twice: descending, then ascending
	r.sorted = [];
	for (let k = 0; k < 2; k++) {
		r.sorted.push(await page.evaluate(() => {
			const t = document.querySelector('table.sortable');
			if (!t) return null;
			t.querySelectorAll('th')[2].click();
			return [...t.querySelectorAll('tbody tr')].map((tr) => tr.children[2].textContent);
		}));
	}
	// sorting a table: click the first numeric header twice (desc, then asc)
	r.table_rows = await page.$$eval('table.sortable tr', (t) => t.length);
	// switch through the flame graphs: the frames each kind draws
	r.kind_frames = {};
	for (const kind of r.flame_tabs) {
		await page.click(`.tabs button[data-kind="${kind}"]`);
		r.kind_frames[kind] = await page.$$eval('.fg-frame', (f) => f.map((x) => x.title.split(' \u2014 ')[0]));
	}
	if (r.flame_tabs.length) // search in the first kind again
		await page.click(`.tabs button[data-kind="${process.env.KIND || r.flame_tabs[0]}"]`);
	if (search) {
		await page.type('#fg-search', search);
		r.matches = await page.$$eval('.fg-frame.match', (f) => f.map((x) => x.title.split(' \u2014 ')[0]));
		r.match_status = await page.$eval('#fg-status', (s) => s.textContent);
	}
	// a run directory's page: the process table and bars, then each
	// process's report in turn through the selector
	if (await page.$('#proc-select')) {
		r.run_rows = await page.$$eval('#processes tbody tr', (t) => t.map((x) => x.children[0].textContent.trim()));
		r.proc_bars = await page.$$eval('#run-chart rect.proc-bar', (b) => b.length);
		r.proc_options = await page.$$eval('#proc-select option', (o) => o.map((x) => x.textContent));
		r.shown = await page.$eval('#proc', (b) => Number(b.dataset.page));
		r.pages = [];
		for (const value of await page.$$eval('#proc-select option', (o) => o.map((x) => x.value))) {
			await page.select('#proc-select', value);
			await page.waitForSelector(`#proc[data-page="${value}"] #summary`, { timeout: 30000 });
			r.pages.push(await page.evaluate(() => ({
				command: document.querySelector('#proc #summary td').textContent,
				flame_tabs: [...document.querySelectorAll('#proc .tabs button')].map((x) => x.dataset.kind),
				frames: [...document.querySelectorAll('#proc .fg-frame')].map((x) => x.title.split(' \u2014 ')[0]),
				heap: !!document.querySelector('#proc #heap-chart'),
			})));
		}
		// a click on a process's row shows its report: click each row
		r.row_clicks = [];
		const nrows = (await page.$$('#processes tbody tr')).length;
		for (let k = 0; k < nrows; k++) {
			await page.evaluate((k) => document.querySelectorAll('#processes tbody tr')[k].click(), k);
			r.row_clicks.push(await page.$eval('#proc', (b) => Number(b.dataset.page)));
		}
	}
	if (shot)
		await page.screenshot({ path: shot, fullPage: true });
	r.errors = w.errors;
	r.external = w.external;
	console.log(JSON.stringify(r));
	await close(browser);
})().catch((e) => {
	console.log(JSON.stringify({ failed: String(e.stack || e) }));
	process.exit(1);
});
