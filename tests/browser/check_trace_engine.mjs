// Parse a --format=trace timeline with the DevTools trace engine (npm
// @paulirish/trace_engine, the code behind the DevTools Performance panel)
// and report, as JSON, per thread track: its name, the CPU time of the
// samples it shows per function (us), and its other slices.
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
		const slices = t.entries.filter((e) => e.ph === 'X' && e.name !== 'ProfileCall' && e.cat !== 'profshim').length;
		tracks.push({ pid, tid, name: t.name, samples: (t.profileCalls || []).length, sampled, slices });
	}
}
console.log(JSON.stringify({ tracks }));
