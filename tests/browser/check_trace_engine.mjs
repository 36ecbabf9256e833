// Parse a --format=trace timeline with the DevTools trace engine (npm
// @paulirish/trace_engine, the code behind the DevTools Performance panel)
// and report, as JSON, per thread track: its name, the time its samples
// cover (busy_us), the CPU time it shows per function (us), and its other
// slices.
// usage: node check_trace_engine.mjs TRACE.json
import { analyzeTrace } from '@paulirish/trace_engine/analyze-trace.mjs';

const { parsedTrace } = await analyzeTrace(process.argv[2]);
const D = parsedTrace.data;
const tracks = [];
for (const [pid, p] of D.Renderer.processes) {
	for (const [tid, t] of p.threads) {
		const sampled = {};
		for (const c of t.profileCalls || []) {
			const n = c.callFrame.functionName;
			sampled[n] = (sampled[n] || 0) + (c.dur || 0);
		}
		// the time the samples cover: the union of the sampled calls
		const spans = (t.profileCalls || []).map((c) => [c.ts, c.ts + (c.dur || 0)]).sort((a, b) => a[0] - b[0]);
		let busy = 0, end = -Infinity;
		for (const [a, b] of spans) {
			if (b <= end) continue;
			busy += b - Math.max(a, end);
			end = b;
		}
		const slices = t.entries.filter((e) => e.ph === 'X' && e.name !== 'ProfileCall' && e.cat !== 'profshim').length;
		tracks.push({ pid, tid, name: t.name, samples: (t.profileCalls || []).length, busy_us: busy, sampled, slices });
	}
}
console.log(JSON.stringify({ tracks }));
