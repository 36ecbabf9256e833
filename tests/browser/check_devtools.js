// Load a .cpuprofile or trace JSON into the real DevTools Performance panel
// (Debian chromium's own DevTools front end, devtools://devtools/bundled/)
// as a user does: the Performance tab, "Load trace...", the file chooser.
// Then read what the panel shows: its track names, and for each thread
// track the Bottom-up table (self time per function, as displayed), and
// any status dialog (a load error). Prints JSON; saves a screenshot.
// A .heapprofile goes to the Memory panel instead (its Bottom Up view).
// usage: node check_devtools.js FILE SCREENSHOT.png
'use strict';
const path = require('path');
const { launch, watch, close } = require('./lib');

// "1,794.7 ms" / "1.25 s" / "850 μs" -> ms
function toMs(text) {
	const m = /([\d,.]+)\s*(ms|s|μs|us)/.exec(text);
	if (!m) return null;
	const v = Number(m[1].replace(/,/g, ''));
	return m[2] === 's' ? v * 1000 : m[2] === 'ms' ? v : v / 1000;
}

// The Bottom-up rows on screen: [self text, activity name]
async function bottomUpRows(page) {
	return page.$$eval('>>> .data-grid-data-grid-node', (rows) => rows.map((tr) => {
		const td = [...tr.querySelectorAll('td')].map((x) => x.innerText.replace(/\s+/g, ' ').trim());
		return td;
	}).filter((td) => td.length >= 3));
}

// Wait until the Bottom-up table has rows other than `before` (its rows
// for the previous track, as JSON): the panel fills it asynchronously.
async function waitRows(page, ms, before) {
	try {
		await page.waitForFunction((before) => {
			const rows = [];
			const deep = (root) => {
				for (const tr of root.querySelectorAll('.data-grid-data-grid-node'))
					rows.push([...tr.querySelectorAll('td')].map((x) => x.innerText.replace(/\s+/g, ' ').trim()));
				for (const e of root.querySelectorAll('*'))
					if (e.shadowRoot) deep(e.shadowRoot);
			};
			deep(document);
			const mine = rows.filter((td) => td.length >= 3);
			return mine.length > 0 && JSON.stringify(mine) !== before;
		}, { timeout: ms, polling: 200 }, before || '');
		return true;
	} catch (e) {
		return false;
	}
}

function parseRows(rows) {
	const out = {};
	for (const td of rows) {
		// columns: self (time, share), total (time, share), activity (name, url)
		const name = td[2].replace(/\s+(\(unknown\)|\S+:\d+:\d+)$/, '');
		if (toMs(name) !== null && /^[\d,.]+\s*(ms|s|μs|us)/.test(name))
			continue; // not a Bottom-up row: a summary grid's

		out[name] = (out[name] || 0) + toMs(td[0]);
	}
	return out;
}

// A .heapprofile in the Memory panel: "Load profile...", then the loaded
// profile in the sidebar; its first view is Heavy (Bottom Up): per function
// the self and total size with their shares of the whole.
async function memoryPanel(page, file) {
	await page.waitForSelector('>>> #tab-heap-profiler', { timeout: 60000 });
	await page.click('>>> #tab-heap-profiler');
	const load = await page.waitForSelector('>>> [aria-label^="Load profile"]', { timeout: 60000 });
	const [chooser] = await Promise.all([page.waitForFileChooser({ timeout: 60000 }), load.click()]);
	await chooser.accept([path.resolve(file)]);
	const item = await page.waitForFunction(() => {
		const find = (root) => {
			for (const e of root.querySelectorAll('li'))
				if (/\(Loaded\)$/.test(e.textContent.trim())) return e;
			for (const e of root.querySelectorAll('*'))
				if (e.shadowRoot) { const f = find(e.shadowRoot); if (f) return f; }
			return null;
		};
		return find(document);
	}, { timeout: 120000, polling: 200 });
	const box = await item.boundingBox();
	await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
	await waitRows(page, 60000, '');
	const rows = {};
	for (const td of await bottomUpRows(page)) {
		const pct = (t) => Number((/([\d.]+)\s*%/.exec(t) || [])[1]);
		rows[td[2]] = { self_pct: pct(td[0]), total_pct: pct(td[1]), self: td[0].replace(/[\d.]+\s*%$/, '').trim() };
	}
	return rows;
}

(async () => {
	const [file, shot] = process.argv.slice(2);
	const browser = await launch();
	const page = await browser.newPage();
	const w = watch(page);
	await page.setViewport({ width: 1400, height: 900 });
	await page.goto('devtools://devtools/bundled/devtools_app.html', { waitUntil: 'load', timeout: 60000 });
	if (file.endsWith('.heapprofile')) {
		const r = { memory: await memoryPanel(page, file) };
		if (shot)
			await page.screenshot({ path: shot });
		r.errors = w.errors;
		console.log(JSON.stringify(r));
		await close(browser);
		return;
	}
	await page.waitForSelector('>>> #tab-timeline', { timeout: 60000 });
	await page.click('>>> #tab-timeline');
	const load = await page.waitForSelector('>>> [aria-label^="Load"]', { timeout: 60000 });
	const [chooser] = await Promise.all([page.waitForFileChooser({ timeout: 60000 }), load.click()]);
	await chooser.accept([path.resolve(file)]);
	// the panel's flame chart, once it has tracks (or its status dialog says why not)
	await page.evaluate(async () => {
		const T = await import('./panels/timeline/timeline.js');
		window.__panel = T.TimelinePanel.TimelinePanel.instance();
	});
	const r = {};
	const dialogText = () => page.evaluate(() => {
		const d = window.__panel.statusDialog;
		return d && d.contentElement && d.contentElement.isConnected ? d.contentElement.innerText : null;
	});
	try {
		await page.waitForFunction(() => {
			const fc = window.__panel.flameChart;
			const data = fc && fc.mainDataProvider.timelineData();
			return data && data.groups && data.groups.length > 0;
		}, { timeout: 120000, polling: 200 });
	} catch (e) {
		// no tracks: what the panel says instead (a load error dialog)
		r.status_dialog = await dialogText();
		if (shot)
			await page.screenshot({ path: shot });
		r.errors = w.errors;
		console.log(JSON.stringify(r));
		await close(browser);
		return;
	}
	r.status_dialog = await dialogText();
	// DevTools opens a trace on a window of its own choice (it may leave out
	// the last few percent); Bottom-up sums what is in the window. Zoom out
	// to the whole trace, as a user would, and say what the first view was.
	r.window_ms = await page.evaluate(async () => {
		const TB = await import('./services/trace_bounds/trace_bounds.js');
		const m = TB.TraceBounds.BoundsManager.instance();
		const st = m.state();
		const first = st.milli.timelineTraceWindow, all = st.milli.entireTraceBounds;
		m.setTimelineVisibleWindow(st.micro.entireTraceBounds);
		return { first: [first.min, first.max], entire: [all.min, all.max] };
	});
	r.tracks = await page.evaluate(() => window.__panel.flameChart.mainDataProvider.timelineData().groups
		.map((g) => ({ name: g.name, level: g.style.nestingLevel })));
	const selectTab = () => page.evaluate(() => window.__panel.flameChart.detailsView.tabbedPane.selectTab('bottom-up', true));
	r.bottom_up = {};
	if (r.tracks.length === 1) { // a .cpuprofile: one thread, shown without a selection
		await selectTab();
		await waitRows(page, 30000);
		r.bottom_up[r.tracks[0].name] = parseRows(await bottomUpRows(page));
	} else {
		// a trace: open the process groups, then click each thread's header
		await page.evaluate(() => {
			const mf = window.__panel.flameChart.mainFlameChart;
			window.__panel.flameChart.mainDataProvider.timelineData().groups.forEach((g, i) => {
				if (g.style.nestingLevel === 0) mf.expandGroup(i);
			});
		});
		for (let i = 0; i < r.tracks.length; i++) {
			if (r.tracks[i].level !== 1) continue;
			let rows = null;
			for (let attempt = 0; attempt < 3 && !rows; attempt++) {
				const at = await page.evaluate((i) => {
					const mf = window.__panel.flameChart.mainFlameChart;
					mf.scrollGroupIntoView(i);
					const c = mf.canvas || mf.contentElement.querySelector('canvas');
					const b = c.getBoundingClientRect();
					return { x: b.left + 40, y: b.top + mf.groupIndexToOffsetForTest(i) - mf.chartViewport.scrollTop + 8 };
				}, i);
				const before = JSON.stringify(await bottomUpRows(page));
				await page.mouse.click(at.x, at.y);
				try { // the click selected the track
					await page.waitForFunction((i) => window.__panel.flameChart.mainFlameChart.selectedGroupIndex === i,
						{ timeout: 10000, polling: 100 }, i);
				} catch (e) {
					continue;
				}
				await selectTab();
				await waitRows(page, 10000, before); // rows of another track may equal: then as they are
				rows = await bottomUpRows(page);
			}
			r.bottom_up[`${i}:${r.tracks[i].name}`] = parseRows(rows || []);
			if (!rows)
				r.unselectable = (r.unselectable || []).concat([r.tracks[i].name]);
		}
	}
	if (shot)
		await page.screenshot({ path: shot });
	r.errors = w.errors;
	console.log(JSON.stringify(r));
	await close(browser);
})().catch((e) => {
	console.log(JSON.stringify({ failed: String(e.stack || e) }));
	process.exit(1);
});
