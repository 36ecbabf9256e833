-- Binary trees: the allocation-heavy benchmark of issue 15. Builds and
-- checks many short-lived complete binary trees and one long-lived tree;
-- every node is a Lua table, so the interpreter calls the allocator tens
-- of millions of times at depth 16. usage: lua5.4 binary_trees.lua DEPTH
local function make(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return { make(depth), make(depth) }
end

local function count(tree)
  if tree[1] == nil then return 1 end
  return 1 + count(tree[1]) + count(tree[2])
end

local maxdepth = tonumber(arg and arg[1]) or 16
local mindepth = 4
if maxdepth < mindepth + 2 then maxdepth = mindepth + 2 end

print(string.format("stretch tree of depth %d\t check: %d", maxdepth + 1, count(make(maxdepth + 1))))
local longlived = make(maxdepth)
for depth = mindepth, maxdepth, 2 do
  local iterations = 1 << (maxdepth - depth + mindepth)
  local check = 0
  for _ = 1, iterations do check = check + count(make(depth)) end
  print(string.format("%d\t trees of depth %d\t check: %d", iterations, depth, check))
end
print(string.format("long lived tree of depth %d\t check: %d", maxdepth, count(longlived)))
