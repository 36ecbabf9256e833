# Identities every call report satisfies, exact or estimated (tree mode's
# sampled timing reconciles its estimates to them). Prints one line per
# broken identity; nothing when all hold. Times in ms; eps covers the
# rounding of ticks to ms in the JSON.
def eps($x): 1e-6 * ($x | fabs) + 1e-6;
def differ($a; $b): (($a - $b) | fabs) > eps($b);
def nodes: .call_graph | recurse(.children[]?);
# every node with whether it is its function's outermost on its path
def tagged($above): . as $n | {name, duration_ms, outer: (($above | index([$n.name])) == null)},
  (. as $n | .children[]? | tagged($above + [$n.name]));
(.time_metrics.functions[]
   | select(.self_ms > .total_ms + eps(.total_ms))
   | "function \(.name): self \(.self_ms) > total \(.total_ms)"),
(.time_metrics.functions[]
   | select(.avg_us > .max_us + eps(.max_us))
   | "function \(.name): average \(.avg_us) us > max \(.max_us)"),
(nodes | select(has("children")) | . as $n
   | ([.children[].duration_ms] | add // 0) as $k
   | (select($k > $n.duration_ms + eps($n.duration_ms))
        | "node \($n.name) (\($n.calls) calls): children \($k) > its \($n.duration_ms)"),
     (select($n | has("self_ms")) | select(differ($n.self_ms; $n.duration_ms - $k))
        | "node \($n.name): self \($n.self_ms) != \($n.duration_ms) - children \($k)"),
     (select(($n.self_ms // 0) < -1e-9) | "node \($n.name): negative self \($n.self_ms)")),
(.time_metrics.threads[]
   | select(differ(.self_ms; .outermost_ms))
   | "thread \(.tid): self sum \(.self_ms) != outermost calls \(.outermost_ms)"),
(.time_metrics.threads[]
   | select(.self_ms > .duration_ms + eps(.duration_ms))
   | "thread \(.tid): self sum \(.self_ms) > its duration \(.duration_ms)"),
# a function's total is the sum of its outermost nodes (no node of the same
# function above): nested calls of a recursion are not counted again
(if [nodes | select(.truncated == true)] | length > 0 then empty else
  ([.call_graph.children[] | tagged([])] | map(select(.outer))
    | group_by(.name) | map({key: .[0].name, value: (map(.duration_ms) | add)}) | from_entries) as $outer
  | .time_metrics.functions[]
  | select(differ(.total_ms; $outer[.name] // 0))
  | "function \(.name): total \(.total_ms) != its outermost calls \($outer[.name] // 0)"
end)
